"""French for the desktop's English source strings: `python resources/i18n/translations.py`
writes ecreteur_fr.ts (Qt Linguist) and compiles ecreteur_fr.qm with pyside6-lrelease.

Edit here or in Qt Linguist (then keep this table in step); tests/hmi/test_i18n.py checks that
every string the desktop shows has its French and that the .qm matches the .ts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

FRENCH = {
    "Phone (demo)": "Téléphone (démo)",
    "The demo's on-call messages land here, as on a phone: click a link to open the incident.": (
        "Les messages d'astreinte de la démonstration arrivent ici, comme sur un téléphone : "
        "cliquez un lien pour ouvrir l'incident."
    ),
    "No message yet: one comes as soon as an alarm pages the on-call person.": (
        "Aucun message pour l'instant : il en viendra un dès qu'une alarme appellera l'astreinte."
    ),
    "Open the incident": "Ouvrir l'incident",
    "to": "à",
    "{city} time ({utc})": "Heure de {city} ({utc})",
    "No escalation is configured: nobody is paged from this site.": (
        "Aucune escalade n'est configurée : personne n'est alerté depuis ce site."
    ),
    "Spillway sill": "Seuil du déversoir",
    "PHE": "PHE",
    "Expected crest {value} about {at}": "Crête prévue {value} vers {at}",
    "Paging": "Appels en cours",
    "Taken in charge": "Pris en charge",
    "Back to normal": "Retour à la normale",
    "Nobody answered": "Personne n'a répondu",
    "Sending": "En cours d'envoi",
    "Retry planned": "Nouvel essai prévu",
    "Sent": "Envoyé",
    "Delivered": "Reçu",
    "Failed": "Échec",
    "Skipped (channel down)": "Sauté (canal en panne)",
    "Cancelled (already acknowledged)": "Annulé (déjà acquittée)",
    "Unknown (server stopped while sending)": "Inconnu (serveur arrêté pendant l'envoi)",
    "Page": "Alerte",
    "Acknowledgement notice": "Avis d'acquittement",
    "Back-to-normal notice": "Avis de retour à la normale",
    "SMS": "SMS",
    "Voice call": "Appel vocal",
    "E-mail": "E-mail",
    "End of the escalation at {at}": "Fin de l'escalade à {at}",
    "Level {level} at {at}: {people}": "Niveau {level} à {at} : {people}",
    "Team": "Équipe",
    "On call now": "De garde maintenant",
    "Until": "Jusqu'à",
    "Next": "Ensuite",
    "From": "À partir de",
    "Incident": "Incident",
    "Opened": "Ouvert",
    "Next step": "Prochaine étape",
    "Person": "Personne",
    "Channel": "Canal",
    "Message": "Message",
    "Why": "Raison",
    "On call": "Astreinte",
    "Incidents": "Incidents",
    "Who was paged": "Qui a été alerté",
    "Server unreachable: who is paged cannot be read now.": (
        "Serveur injoignable : la liste des personnes alertées ne peut pas être lue pour l'instant."
    ),
    "No on-call roster is configured on this site.": "Aucune astreinte n'est configurée sur ce site.",
    "{channel} down until {until}: pages go by the next channel": (
        "{channel} en panne jusqu'au {until} : les alertes passent par le canal suivant"
    ),
    "{n} incident(s) paging now": "{n} incident(s) en cours d'appel",
    "Nobody is paged now": "Personne n'est alerté en ce moment",
    "A reason is required to shelve an alarm.": (
        "Une raison est obligatoire pour mettre une alarme en attente."
    ),
    "Acknowledge": "Acquitter",
    "Action": "Action",
    "Acknowledged": "Acquittée",
    "Acknowledged by": "Acquittée par",
    "Active alarms": "Alarmes actives",
    "Alarm": "Alarme",
    "Alarms": "Alarmes",
    "All": "Toutes",
    "All dams": "Tous les barrages",
    "Card unavailable: {why}": "Carte indisponible : {why}",
    "Cleared, unacknowledged": "Revenue, non acquittée",
    "Comment (optional):": "Commentaire (facultatif) :",
    "Rising": "Montée",
    "PHE {phe} {unit} reached about {time}.": "PHE {phe} {unit} atteinte vers {time}.",
    "If the rain goes on, PHE {phe} {unit} reached about {time}.": (
        "Si la pluie continue, PHE {phe} {unit} atteinte vers {time}."
    ),
    "{count} new alarm(s) below; the list sorts itself again when you leave it": (
        "{count} nouvelle(s) alarme(s) en bas ; la liste se trie de nouveau quand vous la quittez"
    ),
    "Expected crest": "Crête prévue",
    "{limit} {unit} in {eta} (slope)": "{limit} {unit} dans {eta} (pente)",
    "No reservoir model for this dam: the level's present slope, extended.": (
        "Pas de modèle de la retenue pour ce barrage : la pente actuelle du niveau, prolongée."
    ),
    "passed, now falling": "passée, en baisse",
    "now": "maintenant",
    "{peak} {unit} about {time}": "{peak} {unit} vers {time}",
    "From the rain already fallen: {low} to {high} {unit}.": (
        "Avec la pluie déjà tombée : de {low} à {high} {unit}."
    ),
    "If the rain goes on: {peak} {unit} about {time}.": "Si la pluie continue : {peak} {unit} vers {time}.",
    "If the rain goes on: at least {peak} {unit}, still rising where the forecast ends.": (
        "Si la pluie continue : au moins {peak} {unit}, encore en hausse au bout de la prévision."
    ),
    "The catchment's answer is not learnt yet: the inflow is held as it is.": (
        "La réponse du bassin versant n'est pas encore apprise : le débit entrant est gardé tel quel."
    ),
    "Loading the desktop…": "Chargement du poste…",
    "Opening the site's history and alarms…": "Ouverture de l'historique et des alarmes du site…",
    "Connecting to the stations…": "Connexion aux stations…",
    "Level, last 6 h": "Niveau, 6 dernières heures",
    "{count} unacknowledged": "{count} non acquittée(s)",
    "Simulation ×{speed} · simulated time {time}": "Simulation ×{speed} · heure simulée {time}",
    "Bottom gate": "Vanne de fond",
    "Applied at the next start.": "Appliqué au prochain démarrage.",
    "Control-room theme": "Thème salle de contrôle",
    "Dam": "Barrage",
    "Day theme": "Thème jour",
    "Display": "Affichage",
    "Duration (minutes):": "Durée (minutes) :",
    "Export CSV…": "Exporter en CSV…",
    "Export PNG…": "Exporter en PNG…",
    "Fill": "Remplissage",
    "Filter (dam, alarm, user…)": "Filtrer (barrage, alarme, opérateur…)",
    "Historian: NOT WRITING": "Historique : ÉCRITURE ARRÊTÉE",
    "Historian: OK": "Historique : OK",
    "Inflow": "Débit entrant",
    "Level": "Niveau",
    "Journal": "Journal",
    "Last 24 hours": "Dernières 24 heures",
    "Last 30 days": "30 derniers jours",
    "Last 7 days": "7 derniers jours",
    "Last hour": "Dernière heure",
    "Limit": "Seuil",
    "No alarm": "Aucune alarme",
    "No unacknowledged alarm": "Aucune alarme à acquitter",
    "Normal": "Normale",
    "OFFLINE": "HORS LIGNE",
    "REFUSED": "REFUSÉ",
    "Value now": "Valeur actuelle",
    "Not allowed": "Non autorisé",
    "certificate not trusted": "certificat non approuvé",
    "security policy not offered": "politique de sécurité absente",
    "password refused": "mot de passe refusé",
    "password missing": "mot de passe absent",
    "refused": "refus",
    "clock off by": "horloge décalée de",
    "Operator name": "Nom de l'opérateur",
    "Operator:": "Opérateur :",
    "Out of service": "Hors service",
    "Outflow": "Débit sortant",
    "Overview": "Vue d'ensemble",
    "Priority": "Priorité",
    "Quit": "Quitter",
    "Rain": "Pluie",
    "Rain total": "Cumul de pluie",
    "Reason (required):": "Raison (obligatoire) :",
    "Shelve": "Mettre en attente",
    "Spillway": "Déversoir",
    "Shelve…": "Mettre en attente…",
    "Shelved": "En attente",
    "Shelved and suppressed": "En attente et masquées",
    "State": "État",
    "Suppressed": "Masquée (exploitation)",
    "Time": "Heure",
    "Time in": "Apparition",
    "Trends": "Courbes",
    "Unacknowledged": "Non acquittée",
    "Unshelve": "Reprendre",
    "User": "Opérateur",
    "Comment": "Commentaire",
    "acknowledged": "acquittée",
    "condition": "condition",
    "raised": "apparue",
    "removed": "mise hors service",
    "reset": "réarmée",
    "restored": "remise en service",
    "returned": "disparue",
    "shelved": "mise en attente",
    "suppressed": "masquée",
    "unshelved": "reprise",
    "unsuppressed": "démasquée",
    "Value": "Valeur",
    "Volume": "Volume",
    "alarm(s)": "alarme(s)",
    "critical": "critique",
    "from the banner": "depuis le bandeau",
    "high": "haute",
    "invalid": "invalide",
    "low": "basse",
    "medium": "moyenne",
    "online": "en ligne",
    "reached": "atteinte",
    "unknown operator": "opérateur inconnu",
    "Dashboards": "Tableaux de bord",
    "Mute horn": "Couper le klaxon",
    "Silent until the next new alarm": "Silence jusqu'à la prochaine nouvelle alarme",
    "Edit": "Modifier",
    "Add card": "Ajouter une carte",
    "Save": "Enregistrer",
    "Move left": "Déplacer à gauche",
    "Move right": "Déplacer à droite",
    "Move up": "Monter",
    "Move down": "Descendre",
    "Narrower": "Plus étroite",
    "Wider": "Plus large",
    "Shorter": "Moins haute",
    "Taller": "Plus haute",
    "Remove": "Retirer",
    "Gauge": "Jauge",
    "Trend": "Courbe",
    "Synoptic": "Synoptique",
    "Alarm list": "Liste d'alarmes",
    "Station status": "État de la station",
    "Show:": "Afficher :",
    "no value": "pas de valeur",
    "This site was not opened from a file.": "Ce site n'a pas été ouvert depuis un fichier.",
    "Dashboards saved to {path}": "Tableaux de bord enregistrés dans {path}",
    "Password:": "Mot de passe :",
    "Server:": "Serveur :",
    "Signed in:": "Connecté :",
    "Signing in…": "Connexion…",
    "Standalone: this desktop pages": "Autonome : ce poste appelle l'astreinte",
    "User:": "Utilisateur :",
    "connected": "connecté",
    "local": "local",
    "unreachable": "injoignable",
    "Écrêteur — sign in": "Écrêteur — connexion",
    "Viewer": "Observateur",
    "Needs the engineer role": "Réservé au rôle ingénieur",
    "Reset": "Réarmer",
    "A latched alarm, back to normal, is reset once acknowledged": (
        "Une alarme mémorisée, revenue à la normale, se réarme une fois acquittée"
    ),
    "Out of service…": "Mettre hors service…",
    "Return to service": "Remettre en service",
    "A reason is required.": "Un motif est obligatoire.",
    "Modes": "Modes",
    "whole site": "tout le site",
    "Maintenance": "Maintenance",
    "Flood": "Crue",
    "Mode changed.": "Mode changé.",
    "this desktop": "ce poste",
    "Not verified: create accounts with ecreteur user add": (
        "Non vérifié : créez des comptes avec ecreteur user add"
    ),
    "Operator": "Opérateur",
    "Engineer": "Ingénieur",
    "Administrator": "Administrateur",
    "Server unreachable since {since}: alarms evaluated on this desktop (local), no paging from here, commands refused until it is back.": "Serveur injoignable depuis {since} : alarmes évaluées sur ce poste (locales), aucun appel d'astreinte d'ici, commandes refusées jusqu'à son retour.",  # noqa: E501
}

HERE = Path(__file__).resolve().parent


def write_ts(path: Path) -> None:
    messages = "\n".join(
        f"    <message>\n        <source>{escape(en)}</source>\n"
        f"        <translation>{escape(fr)}</translation>\n    </message>"
        for en, fr in sorted(FRENCH.items())
    )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n<TS version="2.1" language="fr_FR">\n'
        f"<context>\n    <name>ecreteur</name>\n{messages}\n</context>\n</TS>\n",
        encoding="utf-8",
    )


def compile_qm(ts: Path, qm: Path) -> None:
    lrelease = Path(sys.executable).with_name("pyside6-lrelease")
    subprocess.run([str(lrelease), "-silent", str(ts), "-qm", str(qm)], check=True)


if __name__ == "__main__":
    write_ts(HERE / "ecreteur_fr.ts")
    compile_qm(HERE / "ecreteur_fr.ts", HERE / "ecreteur_fr.qm")
