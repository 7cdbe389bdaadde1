<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>ecreteur</name>
    <message>
        <source>A latched alarm, back to normal, is reset once acknowledged</source>
        <translation>Une alarme mémorisée, revenue à la normale, se réarme une fois acquittée</translation>
    </message>
    <message>
        <source>A reason is required to shelve an alarm.</source>
        <translation>Une raison est obligatoire pour mettre une alarme en attente.</translation>
    </message>
    <message>
        <source>A reason is required.</source>
        <translation>Un motif est obligatoire.</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>Acquitter</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>Acquittée</translation>
    </message>
    <message>
        <source>Acknowledged by</source>
        <translation>Acquittée par</translation>
    </message>
    <message>
        <source>Acknowledgement notice</source>
        <translation>Avis d'acquittement</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <source>Active alarms</source>
        <translation>Alarmes actives</translation>
    </message>
    <message>
        <source>Add card</source>
        <translation>Ajouter une carte</translation>
    </message>
    <message>
        <source>Administrator</source>
        <translation>Administrateur</translation>
    </message>
    <message>
        <source>Alarm</source>
        <translation>Alarme</translation>
    </message>
    <message>
        <source>Alarm list</source>
        <translation>Liste d'alarmes</translation>
    </message>
    <message>
        <source>Alarms</source>
        <translation>Alarmes</translation>
    </message>
    <message>
        <source>All</source>
        <translation>Toutes</translation>
    </message>
    <message>
        <source>All dams</source>
        <translation>Tous les barrages</translation>
    </message>
    <message>
        <source>Applied at the next start.</source>
        <translation>Appliqué au prochain démarrage.</translation>
    </message>
    <message>
        <source>Back to normal</source>
        <translation>Retour à la normale</translation>
    </message>
    <message>
        <source>Back-to-normal notice</source>
        <translation>Avis de retour à la normale</translation>
    </message>
    <message>
        <source>Bottom gate</source>
        <translation>Vanne de fond</translation>
    </message>
    <message>
        <source>Cancelled (already acknowledged)</source>
        <translation>Annulé (déjà acquittée)</translation>
    </message>
    <message>
        <source>Card unavailable: {why}</source>
        <translation>Carte indisponible : {why}</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Canal</translation>
    </message>
    <message>
        <source>Cleared, unacknowledged</source>
        <translation>Revenue, non acquittée</translation>
    </message>
    <message>
        <source>Comment</source>
        <translation>Commentaire</translation>
    </message>
    <message>
        <source>Comment (optional):</source>
        <translation>Commentaire (facultatif) :</translation>
    </message>
    <message>
        <source>Connecting to the stations…</source>
        <translation>Connexion aux stations…</translation>
    </message>
    <message>
        <source>Control-room theme</source>
        <translation>Thème salle de contrôle</translation>
    </message>
    <message>
        <source>Dam</source>
        <translation>Barrage</translation>
    </message>
    <message>
        <source>Dashboards</source>
        <translation>Tableaux de bord</translation>
    </message>
    <message>
        <source>Dashboards saved to {path}</source>
        <translation>Tableaux de bord enregistrés dans {path}</translation>
    </message>
    <message>
        <source>Day theme</source>
        <translation>Thème jour</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>Reçu</translation>
    </message>
    <message>
        <source>Display</source>
        <translation>Affichage</translation>
    </message>
    <message>
        <source>Duration (minutes):</source>
        <translation>Durée (minutes) :</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>Modifier</translation>
    </message>
    <message>
        <source>End of the escalation at {at}</source>
        <translation>Fin de l'escalade à {at}</translation>
    </message>
    <message>
        <source>Engineer</source>
        <translation>Ingénieur</translation>
    </message>
    <message>
        <source>Expected crest</source>
        <translation>Crête prévue</translation>
    </message>
    <message>
        <source>Expected crest {value} about {at}</source>
        <translation>Crête prévue {value} vers {at}</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>Exporter en CSV…</translation>
    </message>
    <message>
        <source>Export PNG…</source>
        <translation>Exporter en PNG…</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Échec</translation>
    </message>
    <message>
        <source>Fill</source>
        <translation>Remplissage</translation>
    </message>
    <message>
        <source>Filter (dam, alarm, user…)</source>
        <translation>Filtrer (barrage, alarme, opérateur…)</translation>
    </message>
    <message>
        <source>Flood</source>
        <translation>Crue</translation>
    </message>
    <message>
        <source>From</source>
        <translation>À partir de</translation>
    </message>
    <message>
        <source>From the rain already fallen: {low} to {high} {unit}.</source>
        <translation>Avec la pluie déjà tombée : de {low} à {high} {unit}.</translation>
    </message>
    <message>
        <source>Gauge</source>
        <translation>Jauge</translation>
    </message>
    <message>
        <source>Historian: NOT WRITING</source>
        <translation>Historique : ÉCRITURE ARRÊTÉE</translation>
    </message>
    <message>
        <source>Historian: OK</source>
        <translation>Historique : OK</translation>
    </message>
    <message>
        <source>If the rain goes on, PHE {phe} {unit} reached about {time}.</source>
        <translation>Si la pluie continue, PHE {phe} {unit} atteinte vers {time}.</translation>
    </message>
    <message>
        <source>If the rain goes on: at least {peak} {unit}, still rising where the forecast ends.</source>
        <translation>Si la pluie continue : au moins {peak} {unit}, encore en hausse au bout de la prévision.</translation>
    </message>
    <message>
        <source>If the rain goes on: {peak} {unit} about {time}.</source>
        <translation>Si la pluie continue : {peak} {unit} vers {time}.</translation>
    </message>
    <message>
        <source>Incident</source>
        <translation>Incident</translation>
    </message>
    <message>
        <source>Incidents</source>
        <translation>Incidents</translation>
    </message>
    <message>
        <source>Inflow</source>
        <translation>Débit entrant</translation>
    </message>
    <message>
        <source>Journal</source>
        <translation>Journal</translation>
    </message>
    <message>
        <source>Last 24 hours</source>
        <translation>Dernières 24 heures</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>30 derniers jours</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>7 derniers jours</translation>
    </message>
    <message>
        <source>Last hour</source>
        <translation>Dernière heure</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>Niveau</translation>
    </message>
    <message>
        <source>Level {level} at {at}: {people}</source>
        <translation>Niveau {level} à {at} : {people}</translation>
    </message>
    <message>
        <source>Level, last 6 h</source>
        <translation>Niveau, 6 dernières heures</translation>
    </message>
    <message>
        <source>Limit</source>
        <translation>Seuil</translation>
    </message>
    <message>
        <source>Loading the desktop…</source>
        <translation>Chargement du poste…</translation>
    </message>
    <message>
        <source>Maintenance</source>
        <translation>Maintenance</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Message</translation>
    </message>
    <message>
        <source>Mode changed.</source>
        <translation>Mode changé.</translation>
    </message>
    <message>
        <source>Modes</source>
        <translation>Modes</translation>
    </message>
    <message>
        <source>Move down</source>
        <translation>Descendre</translation>
    </message>
    <message>
        <source>Move left</source>
        <translation>Déplacer à gauche</translation>
    </message>
    <message>
        <source>Move right</source>
        <translation>Déplacer à droite</translation>
    </message>
    <message>
        <source>Move up</source>
        <translation>Monter</translation>
    </message>
    <message>
        <source>Mute horn</source>
        <translation>Couper le klaxon</translation>
    </message>
    <message>
        <source>Narrower</source>
        <translation>Plus étroite</translation>
    </message>
    <message>
        <source>Needs the engineer role</source>
        <translation>Réservé au rôle ingénieur</translation>
    </message>
    <message>
        <source>Next</source>
        <translation>Ensuite</translation>
    </message>
    <message>
        <source>Next step</source>
        <translation>Prochaine étape</translation>
    </message>
    <message>
        <source>No alarm</source>
        <translation>Aucune alarme</translation>
    </message>
    <message>
        <source>No escalation is configured: nobody is paged from this site.</source>
        <translation>Aucune escalade n'est configurée : personne n'est alerté depuis ce site.</translation>
    </message>
    <message>
        <source>No message yet: one comes as soon as an alarm pages the on-call person.</source>
        <translation>Aucun message pour l'instant : il en viendra un dès qu'une alarme appellera l'astreinte.</translation>
    </message>
    <message>
        <source>No on-call roster is configured on this site.</source>
        <translation>Aucune astreinte n'est configurée sur ce site.</translation>
    </message>
    <message>
        <source>No reservoir model for this dam: the level's present slope, extended.</source>
        <translation>Pas de modèle de la retenue pour ce barrage : la pente actuelle du niveau, prolongée.</translation>
    </message>
    <message>
        <source>No unacknowledged alarm</source>
        <translation>Aucune alarme à acquitter</translation>
    </message>
    <message>
        <source>Nobody answered</source>
        <translation>Personne n'a répondu</translation>
    </message>
    <message>
        <source>Nobody is paged now</source>
        <translation>Personne n'est alerté en ce moment</translation>
    </message>
    <message>
        <source>Normal</source>
        <translation>Normale</translation>
    </message>
    <message>
        <source>Not allowed</source>
        <translation>Non autorisé</translation>
    </message>
    <message>
        <source>Not verified: create accounts with ecreteur user add</source>
        <translation>Non vérifié : créez des comptes avec ecreteur user add</translation>
    </message>
    <message>
        <source>OFFLINE</source>
        <translation>HORS LIGNE</translation>
    </message>
    <message>
        <source>On call</source>
        <translation>Astreinte</translation>
    </message>
    <message>
        <source>On call now</source>
        <translation>De garde maintenant</translation>
    </message>
    <message>
        <source>Open the incident</source>
        <translation>Ouvrir l'incident</translation>
    </message>
    <message>
        <source>Opened</source>
        <translation>Ouvert</translation>
    </message>
    <message>
        <source>Opening the site's history and alarms…</source>
        <translation>Ouverture de l'historique et des alarmes du site…</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Opérateur</translation>
    </message>
    <message>
        <source>Operator name</source>
        <translation>Nom de l'opérateur</translation>
    </message>
    <message>
        <source>Operator:</source>
        <translation>Opérateur :</translation>
    </message>
    <message>
        <source>Out of service</source>
        <translation>Hors service</translation>
    </message>
    <message>
        <source>Out of service…</source>
        <translation>Mettre hors service…</translation>
    </message>
    <message>
        <source>Outflow</source>
        <translation>Débit sortant</translation>
    </message>
    <message>
        <source>Overview</source>
        <translation>Vue d'ensemble</translation>
    </message>
    <message>
        <source>PHE</source>
        <translation>PHE</translation>
    </message>
    <message>
        <source>PHE {phe} {unit} reached about {time}.</source>
        <translation>PHE {phe} {unit} atteinte vers {time}.</translation>
    </message>
    <message>
        <source>Page</source>
        <translation>Alerte</translation>
    </message>
    <message>
        <source>Paging</source>
        <translation>Appels en cours</translation>
    </message>
    <message>
        <source>Password:</source>
        <translation>Mot de passe :</translation>
    </message>
    <message>
        <source>Person</source>
        <translation>Personne</translation>
    </message>
    <message>
        <source>Phone (demo)</source>
        <translation>Téléphone (démo)</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>Priorité</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quitter</translation>
    </message>
    <message>
        <source>REFUSED</source>
        <translation>REFUSÉ</translation>
    </message>
    <message>
        <source>Rain</source>
        <translation>Pluie</translation>
    </message>
    <message>
        <source>Rain total</source>
        <translation>Cumul de pluie</translation>
    </message>
    <message>
        <source>Reason (required):</source>
        <translation>Raison (obligatoire) :</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Retirer</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>Réarmer</translation>
    </message>
    <message>
        <source>Retry planned</source>
        <translation>Nouvel essai prévu</translation>
    </message>
    <message>
        <source>Return to service</source>
        <translation>Remettre en service</translation>
    </message>
    <message>
        <source>Rising</source>
        <translation>Montée</translation>
    </message>
    <message>
        <source>SMS</source>
        <translation>SMS</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Enregistrer</translation>
    </message>
    <message>
        <source>Sending</source>
        <translation>En cours d'envoi</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Envoyé</translation>
    </message>
    <message>
        <source>Server unreachable since {since}: alarms evaluated on this desktop (local), no paging from here, commands refused until it is back.</source>
        <translation>Serveur injoignable depuis {since} : alarmes évaluées sur ce poste (locales), aucun appel d'astreinte d'ici, commandes refusées jusqu'à son retour.</translation>
    </message>
    <message>
        <source>Server unreachable: who is paged cannot be read now.</source>
        <translation>Serveur injoignable : la liste des personnes alertées ne peut pas être lue pour l'instant.</translation>
    </message>
    <message>
        <source>Server:</source>
        <translation>Serveur :</translation>
    </message>
    <message>
        <source>Shelve</source>
        <translation>Mettre en attente</translation>
    </message>
    <message>
        <source>Shelved</source>
        <translation>En attente</translation>
    </message>
    <message>
        <source>Shelved and suppressed</source>
        <translation>En attente et masquées</translation>
    </message>
    <message>
        <source>Shelve…</source>
        <translation>Mettre en attente…</translation>
    </message>
    <message>
        <source>Shorter</source>
        <translation>Moins haute</translation>
    </message>
    <message>
        <source>Show:</source>
        <translation>Afficher :</translation>
    </message>
    <message>
        <source>Signed in:</source>
        <translation>Connecté :</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Connexion…</translation>
    </message>
    <message>
        <source>Silent until the next new alarm</source>
        <translation>Silence jusqu'à la prochaine nouvelle alarme</translation>
    </message>
    <message>
        <source>Simulation ×{speed} · simulated time {time}</source>
        <translation>Simulation ×{speed} · heure simulée {time}</translation>
    </message>
    <message>
        <source>Skipped (channel down)</source>
        <translation>Sauté (canal en panne)</translation>
    </message>
    <message>
        <source>Spillway</source>
        <translation>Déversoir</translation>
    </message>
    <message>
        <source>Spillway sill</source>
        <translation>Seuil du déversoir</translation>
    </message>
    <message>
        <source>Standalone: this desktop pages</source>
        <translation>Autonome : ce poste appelle l'astreinte</translation>
    </message>
    <message>
        <source>State</source>
        <translation>État</translation>
    </message>
    <message>
        <source>Station status</source>
        <translation>État de la station</translation>
    </message>
    <message>
        <source>Suppressed</source>
        <translation>Masquée (exploitation)</translation>
    </message>
    <message>
        <source>Synoptic</source>
        <translation>Synoptique</translation>
    </message>
    <message>
        <source>Taken in charge</source>
        <translation>Pris en charge</translation>
    </message>
    <message>
        <source>Taller</source>
        <translation>Plus haute</translation>
    </message>
    <message>
        <source>Team</source>
        <translation>Équipe</translation>
    </message>
    <message>
        <source>The catchment's answer is not learnt yet: the inflow is held as it is.</source>
        <translation>La réponse du bassin versant n'est pas encore apprise : le débit entrant est gardé tel quel.</translation>
    </message>
    <message>
        <source>The demo's on-call messages land here, as on a phone: click a link to open the incident.</source>
        <translation>Les messages d'astreinte de la démonstration arrivent ici, comme sur un téléphone : cliquez un lien pour ouvrir l'incident.</translation>
    </message>
    <message>
        <source>This site was not opened from a file.</source>
        <translation>Ce site n'a pas été ouvert depuis un fichier.</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Heure</translation>
    </message>
    <message>
        <source>Time in</source>
        <translation>Apparition</translation>
    </message>
    <message>
        <source>Trend</source>
        <translation>Courbe</translation>
    </message>
    <message>
        <source>Trends</source>
        <translation>Courbes</translation>
    </message>
    <message>
        <source>Unacknowledged</source>
        <translation>Non acquittée</translation>
    </message>
    <message>
        <source>Unknown (server stopped while sending)</source>
        <translation>Inconnu (serveur arrêté pendant l'envoi)</translation>
    </message>
    <message>
        <source>Unshelve</source>
        <translation>Reprendre</translation>
    </message>
    <message>
        <source>Until</source>
        <translation>Jusqu'à</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Opérateur</translation>
    </message>
    <message>
        <source>User:</source>
        <translation>Utilisateur :</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Valeur</translation>
    </message>
    <message>
        <source>Value now</source>
        <translation>Valeur actuelle</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>Observateur</translation>
    </message>
    <message>
        <source>Voice call</source>
        <translation>Appel vocal</translation>
    </message>
    <message>
        <source>Volume</source>
        <translation>Volume</translation>
    </message>
    <message>
        <source>Who was paged</source>
        <translation>Qui a été alerté</translation>
    </message>
    <message>
        <source>Why</source>
        <translation>Raison</translation>
    </message>
    <message>
        <source>Wider</source>
        <translation>Plus large</translation>
    </message>
    <message>
        <source>acknowledged</source>
        <translation>acquittée</translation>
    </message>
    <message>
        <source>alarm(s)</source>
        <translation>alarme(s)</translation>
    </message>
    <message>
        <source>certificate not trusted</source>
        <translation>certificat non approuvé</translation>
    </message>
    <message>
        <source>clock off by</source>
        <translation>horloge décalée de</translation>
    </message>
    <message>
        <source>condition</source>
        <translation>condition</translation>
    </message>
    <message>
        <source>connected</source>
        <translation>connecté</translation>
    </message>
    <message>
        <source>critical</source>
        <translation>critique</translation>
    </message>
    <message>
        <source>from the banner</source>
        <translation>depuis le bandeau</translation>
    </message>
    <message>
        <source>high</source>
        <translation>haute</translation>
    </message>
    <message>
        <source>invalid</source>
        <translation>invalide</translation>
    </message>
    <message>
        <source>local</source>
        <translation>local</translation>
    </message>
    <message>
        <source>low</source>
        <translation>basse</translation>
    </message>
    <message>
        <source>medium</source>
        <translation>moyenne</translation>
    </message>
    <message>
        <source>no value</source>
        <translation>pas de valeur</translation>
    </message>
    <message>
        <source>now</source>
        <translation>maintenant</translation>
    </message>
    <message>
        <source>online</source>
        <translation>en ligne</translation>
    </message>
    <message>
        <source>passed, now falling</source>
        <translation>passée, en baisse</translation>
    </message>
    <message>
        <source>password missing</source>
        <translation>mot de passe absent</translation>
    </message>
    <message>
        <source>password refused</source>
        <translation>mot de passe refusé</translation>
    </message>
    <message>
        <source>raised</source>
        <translation>apparue</translation>
    </message>
    <message>
        <source>reached</source>
        <translation>atteinte</translation>
    </message>
    <message>
        <source>refused</source>
        <translation>refus</translation>
    </message>
    <message>
        <source>removed</source>
        <translation>mise hors service</translation>
    </message>
    <message>
        <source>reset</source>
        <translation>réarmée</translation>
    </message>
    <message>
        <source>restored</source>
        <translation>remise en service</translation>
    </message>
    <message>
        <source>returned</source>
        <translation>disparue</translation>
    </message>
    <message>
        <source>security policy not offered</source>
        <translation>politique de sécurité absente</translation>
    </message>
    <message>
        <source>shelved</source>
        <translation>mise en attente</translation>
    </message>
    <message>
        <source>suppressed</source>
        <translation>masquée</translation>
    </message>
    <message>
        <source>this desktop</source>
        <translation>ce poste</translation>
    </message>
    <message>
        <source>to</source>
        <translation>à</translation>
    </message>
    <message>
        <source>unknown operator</source>
        <translation>opérateur inconnu</translation>
    </message>
    <message>
        <source>unreachable</source>
        <translation>injoignable</translation>
    </message>
    <message>
        <source>unshelved</source>
        <translation>reprise</translation>
    </message>
    <message>
        <source>unsuppressed</source>
        <translation>démasquée</translation>
    </message>
    <message>
        <source>whole site</source>
        <translation>tout le site</translation>
    </message>
    <message>
        <source>{channel} down until {until}: pages go by the next channel</source>
        <translation>{channel} en panne jusqu'au {until} : les alertes passent par le canal suivant</translation>
    </message>
    <message>
        <source>{city} time ({utc})</source>
        <translation>Heure de {city} ({utc})</translation>
    </message>
    <message>
        <source>{count} new alarm(s) below; the list sorts itself again when you leave it</source>
        <translation>{count} nouvelle(s) alarme(s) en bas ; la liste se trie de nouveau quand vous la quittez</translation>
    </message>
    <message>
        <source>{count} unacknowledged</source>
        <translation>{count} non acquittée(s)</translation>
    </message>
    <message>
        <source>{limit} {unit} in {eta} (slope)</source>
        <translation>{limit} {unit} dans {eta} (pente)</translation>
    </message>
    <message>
        <source>{n} incident(s) paging now</source>
        <translation>{n} incident(s) en cours d'appel</translation>
    </message>
    <message>
        <source>{peak} {unit} about {time}</source>
        <translation>{peak} {unit} vers {time}</translation>
    </message>
    <message>
        <source>Écrêteur — sign in</source>
        <translation>Écrêteur — connexion</translation>
    </message>
</context>
</TS>
