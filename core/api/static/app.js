// Shared by every page: language, theme, the REST API with the session cookie, the event
// stream, the header. No framework and no CDN: the control room's network reaches the server only.

const WORDS = {
  fr: {
    overview: "Vue d'ensemble", alarms: "Alarmes", oncall: "Astreinte", phone: "Téléphone (démo)", signout: "Se déconnecter",
    simulation: "Simulation", simulated_time: "Heure simulée",
    door_open: "ouverte", door_closed: "fermée", state_on: "oui", state_off: "non", crest_reached: "atteinte",
    channel_down: "Canal en panne, les appels passent par le suivant", channel_sms: "SMS", channel_voice: "appel vocal", channel_email: "e-mail",
    live: "En direct", reconnecting: "Reconnexion…", night: "Nuit", day: "Jour", language: "English",
    theme: "Thème", critical: "critique", high: "haute", medium: "moyenne", low: "basse",
    calm: "Normal", lost: "Liaison perdue", level: "Niveau", inflow: "Débit entrant", outflow: "Débit sortant",
    spillway_flow: "Déversoir", rain: "Pluie", gate: "Vanne", volume: "Volume", crest_in: "Crête dans", crest_expected: "Crête prévue", threshold_in: "Seuil dans (pente)", about: "vers",
    band: "fourchette", if_rain_continues: "Si la pluie continue", still_rising: "encore en hausse au bout de la prévision", phe: "PHE", if_rain_goes_on: "si la pluie continue", crest_passed: "passée",
    link: "Liaison", forecast: "Prévision", trend: "Tendance", no_forecast: "pas de montée", min: "min", h: "h",
    connected: "connectée", connecting: "connexion…", disconnected: "perdue", backfilling: "rattrapage",
    stopped: "arrêtée", alarms_n: "alarmes", alarm_1: "alarme", last6h: "6 dernières heures", last3h: "3 dernières heures", phone_intro: "Les messages d'astreinte de la démonstration arrivent ici, comme sur le téléphone de la personne appelée : touchez un lien pour ouvrir l'incident.", phone_empty: "Aucun message pour l'instant : il en viendra un dès qu'une alarme appellera l'astreinte.", phone_open: "Ouvrir l'incident", phone_to: "à",
    active_alarms: "Alarmes en cours", journal: "Journal", all_dams: "Tous les barrages",
    all_priorities: "Toutes priorités", dam: "Barrage", priority: "Priorité", show: "Afficher",
    active_only: "En cours", all_states: "Toutes, y compris en attente", ack: "Acquitter",
    shelve: "Mettre en attente", unshelve: "Reprendre", comment: "Commentaire", reason: "Motif",
    duration: "Durée", confirm: "Confirmer", cancel: "Annuler", since: "depuis", raised_at: "déclenchée à",
    now_value: "maintenant", limit: "seuil", acknowledged_by: "acquittée par", shelved_by: "en attente par",
    until: "jusqu'à", none_active: "Aucune alarme en cours.", unacknowledged: "non acquittée",
    acknowledged: "acquittée", returned_unacknowledged: "revenue, non acquittée", shelved: "en attente",
    suppressed: "supprimée", out_of_service: "hors service", normal: "normale", done: "Fait.",
    when: "Quand", action: "Action", who: "Qui", message: "Message", on_call_now: "De garde",
    next: "Ensuite", team: "Équipe", incidents: "Incidents", incident: "Incident", opened: "Ouvert",
    state: "État", paged: "Appels", person: "Personne", channel: "Canal", none_incident: "Aucun incident.",
    open: "ouvert", exhausted: "épuisé", cleared: "revenu à la normale", sign_in: "Se connecter",
    delivery_sending: "en cours d'envoi", delivery_retry: "nouvel essai prévu", delivery_sent: "envoyé",
    delivery_delivered: "reçu", delivery_failed: "échec", delivery_skipped: "sauté (canal en panne)",
    delivery_cancelled: "annulé (déjà acquittée)", delivery_unknown: "inconnu (serveur arrêté pendant l'envoi)",
    escalate_now: "Je ne peux pas : alerter le niveau suivant maintenant", open_dam: "Voir le barrage :",
    next_step: "Prochaine étape", next_level: "niveau {level} à {at} ({people})", escalation_ends: "fin de l'escalade à {at}",
    timeline: "Qui a été alerté", kind_page: "alerte", kind_ack: "avis d'acquittement", kind_clear: "avis de retour à la normale",
    user: "Identifiant", password: "Mot de passe", wrong: "Identifiant ou mot de passe incorrect.",
    locked: "Trop d'essais manqués depuis cet appareil : réessayez dans {wait}.",
    forbidden: "Votre rôle ne permet pas cette action.", error: "Erreur", escalation_level: "Niveau d'escalade",
    raised: "déclenchée", cleared_ev: "retour à la normale", read_only: "Lecture seule (rôle observateur).",
    minutes: "minutes", sms: "SMS", email: "e-mail", voice: "appel", page: "appel", value: "Valeur",
    no_roster: "Aucune astreinte n'est configurée sur ce serveur.",
    no_escalation: "Aucune escalade n'est configurée : personne n'est alerté depuis ce site.",
    take_charge: "Vous avez été appelé(e) pour cet incident. Confirmez pour l'acquitter : l'escalade s'arrête.",
    ack_incident: "J'acquitte l'incident", for_person: "Pour", link_until: "Lien valable jusqu'à",
    link_refused: "Ce lien ne peut plus servir", sign_in_instead: "Se connecter pour agir",
    already: "Déjà traité", by: "par",
    exhausted_take: "Personne n'a répondu jusqu'au bout de l'escalade : l'alarme attend toujours. Confirmez pour la prendre en charge ; les personnes appelées en seront averties.",
    embed_read_only: "Cette vue intégrée demande un jeton en lecture seule (ecreteur token create … --scope read).",
    embed_no_token: "Cette vue intégrée demande un jeton en lecture seule dans son adresse : …/embed#token=… (ecreteur token create portail --scope read).",
    embed_bad_token: "Le jeton de cette vue intégrée est inconnu ou révoqué : demandez-en un nouveau à l'administrateur du serveur (ecreteur token create portail --scope read).",
    no_unacked: "Aucune alarme à acquitter", unacked_alarms: "Alarmes non acquittées",
    bad: "invalide", uncertain: "douteuse", per_h: "/h", synoptic: "Synoptique", trends: "Tendances",
    csv: "Télécharger (CSV)", zoom_in: "Zoom avant", zoom_out: "Zoom arrière", earlier: "Plus tôt",
    later: "Plus tard", now: "Maintenant", range: "Période", tag: "Mesure", details: "Détails",
    minmax: "min–max", spillway: "Déversoir", bottom_gate: "Vanne de fond", reservoir: "Retenue",
    viewer: "observateur", operator: "opérateur", engineer: "ingénieur", admin: "administrateur",
  },
  en: {
    overview: "Overview", alarms: "Alarms", oncall: "On call", phone: "Phone (demo)", signout: "Sign out",
    simulation: "Simulation", simulated_time: "Simulated time",
    door_open: "open", door_closed: "closed", state_on: "on", state_off: "off", crest_reached: "reached",
    channel_down: "Channel down, pages go by the next one", channel_sms: "SMS", channel_voice: "voice call", channel_email: "e-mail",
    live: "Live", reconnecting: "Reconnecting…", night: "Night", day: "Day", language: "Français",
    theme: "Theme", critical: "critical", high: "high", medium: "medium", low: "low",
    calm: "Normal", lost: "Link lost", level: "Level", inflow: "Inflow", outflow: "Outflow",
    spillway_flow: "Spillway", rain: "Rain", gate: "Gate", volume: "Volume", crest_in: "Crest in", crest_expected: "Expected crest", threshold_in: "Threshold in (slope)", about: "about",
    band: "band", if_rain_continues: "If the rain goes on", still_rising: "still rising where the forecast ends", phe: "PHE", if_rain_goes_on: "if the rain goes on", crest_passed: "passed",
    link: "Link", forecast: "Forecast", trend: "Trend", no_forecast: "not rising", min: "min", h: "h",
    connected: "connected", connecting: "connecting…", disconnected: "lost", backfilling: "catching up",
    stopped: "stopped", alarms_n: "alarms", alarm_1: "alarm", last6h: "last 6 hours", last3h: "last 3 hours", phone_intro: "The demo's on-call messages land here, as on the phone of the person paged: tap a link to open the incident.", phone_empty: "No message yet: one comes as soon as an alarm pages the on-call person.", phone_open: "Open the incident", phone_to: "to",
    active_alarms: "Active alarms", journal: "Journal", all_dams: "All dams",
    all_priorities: "All priorities", dam: "Dam", priority: "Priority", show: "Show",
    active_only: "Active", all_states: "All, shelved included", ack: "Acknowledge",
    shelve: "Shelve", unshelve: "Unshelve", comment: "Comment", reason: "Reason",
    duration: "Duration", confirm: "Confirm", cancel: "Cancel", since: "since", raised_at: "raised at",
    now_value: "now", limit: "limit", acknowledged_by: "acknowledged by", shelved_by: "shelved by",
    until: "until", none_active: "No active alarm.", unacknowledged: "unacknowledged",
    acknowledged: "acknowledged", returned_unacknowledged: "returned, unacknowledged", shelved: "shelved",
    suppressed: "suppressed", out_of_service: "out of service", normal: "normal", done: "Done.",
    when: "When", action: "Action", who: "Who", message: "Message", on_call_now: "On call",
    next: "Next", team: "Team", incidents: "Incidents", incident: "Incident", opened: "Opened",
    state: "State", paged: "Pages", person: "Person", channel: "Channel", none_incident: "No incident.",
    open: "open", exhausted: "exhausted", cleared: "back to normal", sign_in: "Sign in",
    delivery_sending: "sending", delivery_retry: "retry planned", delivery_sent: "sent",
    delivery_delivered: "delivered", delivery_failed: "failed", delivery_skipped: "skipped (channel down)",
    delivery_cancelled: "cancelled (already acknowledged)", delivery_unknown: "unknown (server stopped while sending)",
    escalate_now: "I cannot take it: page the next level now", open_dam: "See the dam:",
    next_step: "Next step", next_level: "level {level} at {at} ({people})", escalation_ends: "end of the escalation at {at}",
    timeline: "Who was paged", kind_page: "page", kind_ack: "acknowledgement notice", kind_clear: "back-to-normal notice",
    user: "User name", password: "Password", wrong: "Wrong user name or password.",
    locked: "Too many failed sign-ins from this device: try again in {wait}.",
    forbidden: "Your role does not allow this.", error: "Error", escalation_level: "Escalation level",
    raised: "raised", cleared_ev: "back to normal", read_only: "Read only (viewer role).",
    minutes: "minutes", sms: "SMS", email: "e-mail", voice: "voice call", page: "page", value: "Value",
    no_roster: "No on-call roster is configured on this server.",
    no_escalation: "No escalation is configured: nobody is paged from this site.",
    take_charge: "You were paged for this incident. Confirm to acknowledge it: the escalation stops.",
    ack_incident: "I acknowledge incident", for_person: "For", link_until: "Link valid until",
    link_refused: "This link can no longer be used", sign_in_instead: "Sign in to act",
    already: "Already handled", by: "by",
    exhausted_take: "Nobody answered to the end of the escalation: the alarm is still waiting. Confirm to take charge of it; the people paged will be told.",
    embed_read_only: "This embedded view needs a read-only token (ecreteur token create … --scope read).",
    embed_no_token: "This embedded view needs a read-only token in its address: …/embed#token=… (ecreteur token create portal --scope read).",
    embed_bad_token: "This embedded view's token is unknown or revoked: ask the server's administrator for a new one (ecreteur token create portal --scope read).",
    no_unacked: "No alarm to acknowledge", unacked_alarms: "Unacknowledged alarms",
    bad: "bad", uncertain: "uncertain", per_h: "/h", synoptic: "Synoptic", trends: "Trends",
    csv: "Download (CSV)", zoom_in: "Zoom in", zoom_out: "Zoom out", earlier: "Earlier",
    later: "Later", now: "Now", range: "Period", tag: "Measurement", details: "Details",
    minmax: "min–max", spillway: "Spillway", bottom_gate: "Bottom gate", reservoir: "Reservoir",
    viewer: "viewer", operator: "operator", engineer: "engineer", admin: "administrator",
  },
};

export const RANK = { critical: 4, high: 3, medium: 2, low: 1 };
export const SHAPE = { critical: "◆", high: "▲", medium: "■", low: "●" };

/** The browser's storage, or nothing where it is refused (a frame in another site's page). */
const stored = {
  get(key) { try { return localStorage.getItem(key); } catch { return null; } },
  set(key, value) { try { localStorage.setItem(key, value); } catch { /* this page only */ } },
};
export let lang = stored.get("lang") || document.documentElement.lang || "fr";
document.documentElement.lang = lang;
export const T = (key) => (WORDS[lang] && WORDS[lang][key]) || WORDS.en[key] || key;
export const ZONE = document.body.dataset.tz || "Europe/Paris";
/** The site's clock, not the browser's: the server's "now" at the page's making, run at its
 * speed (×60 in the demo, whose stations stamp simulated time). */
export const SPEED = Number(document.body.dataset.speed || 1);
const NOW0 = Number(document.body.dataset.now || Date.now()), T0 = performance.now();
export const siteNow = () => NOW0 + (performance.now() - T0) * SPEED;
/** Framed by the customer's portal: read-only, with the token in the address's fragment. */
export const EMBED = document.body.dataset.embed === "1";
const BEARER = EMBED ? new URLSearchParams(location.hash.slice(1)).get("token") || "" : null;

const theme = stored.get("theme");
if (theme) document.documentElement.dataset.theme = theme;

/** An element: h("p", {class: "x"}, "text", child…); text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElementNS(
    ["svg", "polyline", "line", "rect", "text", "title"].includes(tag) && attrs.svg !== false
      ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false || k === "svg") continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An alarm's or an event's words in the page's language. */
export const message = (a) => (lang === "en" ? a.message_en || a.message_fr : a.message_fr);

/** ``draw`` at the next frame, once however many times it is asked for before then. */
export function onNextFrame(draw) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  };
}

export function fmt(value, decimals = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return Number(value).toLocaleString(lang === "fr" ? "fr-FR" : "en-GB",
    { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A time in the site's zone, the same on every page. */
export function when(iso, withDate = false) {
  if (!iso) return "—";
  const options = { timeZone: ZONE, hour: "2-digit", minute: "2-digit", second: "2-digit" };
  if (withDate) Object.assign(options, { weekday: "short", day: "numeric", month: "short" });
  return new Intl.DateTimeFormat(lang === "fr" ? "fr-FR" : "en-GB", options).format(new Date(iso));
}

function cookie(name) {
  const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

export class ApiError extends Error {
  constructor(status, detail, retryAfter = null) { super(detail); this.status = status; this.retryAfter = retryAfter; }
}

/** A REST call with the session cookie; state-changing calls repeat the CSRF cookie. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = cookie("ecr_csrf");
  if (BEARER !== null) headers.Authorization = "Bearer " + BEARER;
  const response = await fetch("/api/v1" + path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !path.startsWith("/auth/session") && BEARER === null) {
    location.assign("/login?next=" + encodeURIComponent(location.pathname));
    throw new ApiError(401, "signed out");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const retry = Number(response.headers.get("Retry-After"));
    throw new ApiError(response.status, data.detail || response.statusText, retry > 0 ? retry : null);
  }
  return data;
}

let liveBadge = null;
let banner = null;
/** Every alarm the server annunciates, kept by the stream for the banner on every page. */
export const ALARMS = new Map();
const UNACKED = new Set(["unacknowledged", "returned_unacknowledged"]);

function drawBanner() {
  if (!banner) return;
  const unacked = [...ALARMS.values()].filter((a) => UNACKED.has(a.status));
  if (!unacked.length) {
    banner.className = "banner calm";
    banner.replaceChildren(h("span", {}, "✓ " + T("no_unacked")));
    return;
  }
  unacked.sort((a, b) => RANK[b.priority] - RANK[a.priority] || (b.since || "").localeCompare(a.since || ""));
  const first = unacked[0];
  const counts = ["critical", "high", "medium", "low"].map((p) => [p, unacked.filter((a) => a.priority === p).length])
    .filter(([, n]) => n > 0);
  banner.className = "banner " + first.priority;
  banner.replaceChildren(
    h(EMBED ? "span" : "a", { href: EMBED ? null : "/alarms" }, h("strong", {}, `${SHAPE[first.priority]} ${T(first.priority)}`), " ",
      message(first)),
    h("span", { class: "counts" }, counts.map(([p, n]) => h("span", { class: "badge " + p }, `${SHAPE[p]} ${n}`))));
}
export function setLive(on) {
  if (!liveBadge) return;
  liveBadge.className = "live " + (on ? "on" : "off");
  liveBadge.textContent = on ? "● " + T("live") : "○ " + T("reconnecting");
}

/** "Simulation ×60 · Thu 3 Dec 18:42": a time-lapse says so, with its time, on every page. */
function simulationBadge() {
  const badge = h("span", { class: "simulation", role: "timer", "aria-label": T("simulated_time") });
  const tick = () => {
    if (!badge.isConnected && badge.dataset.drawn) return;  // the header was redrawn
    badge.dataset.drawn = "1";
    badge.textContent = `${T("simulation")} ×${SPEED} · ${when(new Date(siteNow()).toISOString(), true)}`;
    setTimeout(tick, 1000);
  };
  tick();
  return badge;
}

/** The header: site, pages, who is signed in, language, day/night, live state. */
export async function header(active) {
  const bar = document.getElementById("bar");
  const signedOut = active === "login" || active === "link" || EMBED;  // a link is its own credential
  let me = null;
  try {
    me = active === "login" || active === "link" ? null : await api("/auth/me");
  } catch (failure) {
    if (EMBED && failure instanceof ApiError && failure.status === 401) embedRefused(BEARER ? "embed_bad_token" : "embed_no_token");
    throw failure;
  }
  if (EMBED && me.scopes.some((scope) => scope !== "read")) {
    main().replaceChildren(h("p", { class: "notice", role: "alert" }, T("embed_read_only")));
    throw new Error("an embedded view needs a read-only token");
  }
  const pages = [["/", "overview"], ["/alarms", "alarms"], ["/oncall", "oncall"]];
  if (document.body.dataset.phone === "1") pages.push(["/phone", "phone"]);  // the demo's simulated phone
  liveBadge = signedOut && !EMBED ? null : h("span", { class: "live", role: "status", "aria-live": "polite" });
  const night = (document.documentElement.dataset.theme ||
    (matchMedia("(prefers-color-scheme: dark)").matches ? "night" : "day")) === "night";
  banner = signedOut && !EMBED ? null : h("div", { class: "banner calm", role: "status", "aria-live": "polite",
    "aria-label": T("unacked_alarms") });
  bar.replaceChildren(...[
    h("span", { class: "site" }, document.body.dataset.site || "Écrêteur"),
    me && !EMBED ? h("nav", { "aria-label": "Pages" }, h("ul", {}, pages.map(([href, key]) =>
      h("li", {}, h("a", { href, "aria-current": key === active ? "page" : null }, T(key)))))) : null,
    h("div", { class: "tools" },
      liveBadge,
      me && !EMBED ? h("span", { class: "muted who" }, `${me.user || me.name} (${T(me.role)})`) : null,
      h("button", { type: "button", lang: lang === "fr" ? "en" : "fr", "aria-label": `${lang === "fr" ? "EN" : "FR"} (${T("language")})`, onclick: () => {
        stored.set("lang", lang === "fr" ? "en" : "fr"); location.reload(); } }, lang === "fr" ? "EN" : "FR"),
      h("button", { type: "button", "aria-pressed": String(night), "aria-label": T("theme") + " " + T("night"),
        onclick: () => {
          const next = night ? "day" : "night";
          stored.set("theme", next); document.documentElement.dataset.theme = next; header(active);
        } }, night ? "☀" : "☾"),
      me && !EMBED ? h("button", { type: "button", onclick: async () => {
        await api("/auth/logout", { method: "POST" }); location.assign("/login"); } }, T("signout")) : null,
    ),
  ].filter(Boolean));  // a null child would be written "null"
  if (SPEED !== 1) bar.querySelector(".tools").prepend(simulationBadge());
  if (banner) bar.append(banner);
  drawBanner();
  setLive(false);
  return me;
}

/**
 * The server's event stream over a WebSocket with the session cookie. After a drop it resumes
 * from the last number it saw (the server replays what was missed, or sends a fresh snapshot).
 */
export function stream(kinds, handlers) {
  let epoch = null, seq = null, delay = 500;
  function open() {
    const query = new URLSearchParams({ kinds });
    if (epoch !== null) { query.set("epoch", epoch); query.set("since", String(seq)); }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // A bearer goes in the subprotocol, not in the address: addresses end up in logs
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/events?${query}`,
      BEARER === null ? [] : ["ecreteur.bearer", BEARER]);
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "hello") { setLive(true); delay = 500; if (event.epoch !== epoch) seq = null; epoch = event.epoch; return; }
      if (typeof event.seq === "number") seq = event.seq;
      if (event.type === "snapshot") { ALARMS.clear(); for (const a of event.alarms) ALARMS.set(a.id, a); drawBanner(); }
      if (event.type === "alarm" && event.alarm) { ALARMS.set(event.alarm.id, event.alarm); drawBanner(); }
      const handler = handlers[event.type];
      if (handler) handler(event);
    };
    socket.onclose = (closing) => {
      setLive(false);
      if (closing.code === 4401 && EMBED) { embedRefused("embed_bad_token"); return; }  // revoked while shown
      if (closing.code === 4401) { location.assign("/login?next=" + encodeURIComponent(location.pathname)); return; }
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    };
  }
  open();
}

/** The embedded view cannot show anything: say why in the frame, in place of the dams. */
function embedRefused(key) {
  main().replaceChildren(h("p", { class: "notice", role: "alert" }, T(key)));
}

export function priorityBadge(priority, count) {
  return h("span", { class: "badge " + priority },
    `${SHAPE[priority]} ${T(priority)}${count > 1 ? " · " + count : ""}`);
}

export function showError(where, error) {
  const text = error.status === 403 ? T("forbidden") : `${T("error")} : ${error.message}`;
  where.replaceChildren(h("p", { class: "error", role: "alert" }, text));
}

export function main() {
  return document.getElementById("main");
}

/** The server's trend and crest forecast (every 30 s on the pages), into the dams shown. */
export async function freshForecasts(dams) {
  for (const fresh of await api("/dams")) {
    const dam = dams.find((d) => d.id === fresh.id);
    if (dam) Object.assign(dam, { eta_min: fresh.eta_min, rate_per_h: fresh.rate_per_h, crest: fresh.crest });
  }
}

/** A dam's trend and crest forecast as definition rows (the overview's cards, the dam page):
 * the rate of rise, the crest routed through its reservoir with its band, the rain-goes-on
 * scenario and the PHE when foreseen; without a reservoir, the slope's time to the threshold. */
export function forecastRows(dam, latest) {
  const rate = dam.rate_per_h !== null && dam.rate_per_h !== undefined && dam.level
    ? [h("dt", {}, T("trend")), h("dd", { "data-role": "rate" }, `${dam.rate_per_h > 0 ? "+" : ""}${fmt(dam.rate_per_h, 2)} ${dam.level.unit}${T("per_h")}`)]
    : [];
  return [...rate, ...crestRows(dam, latest)];
}

function crestRows(dam, latest) {
  // the dam's crest forecast, routed through its reservoir; without one, the slope's guess
  const c = dam.crest;
  if (!c) return [h("dt", {}, T("threshold_in")), h("dd", {}, slopeEta(dam))];
  const unit = dam.level ? dam.level.unit : "";
  const decimals = dam.level ? dam.level.decimals : 2;
  const sample = dam.level ? latest.get(dam.level.tag) : null;
  const passed = sample && c.peak <= sample.value + 0.005;
  const text = passed ? T("crest_passed") : `${fmt(c.peak, decimals)} ${unit} ${T("about")} ${when(c.peak_at).slice(0, 5)}`;
  const rows = [h("dt", {}, T("crest_expected")), h("dd", { "data-role": "crest" }, text,
    passed ? null : h("div", { class: "muted" }, `${T("band")} ${fmt(c.low, decimals)}–${fmt(c.high, decimals)} ${unit}`))];
  if (c.if_rain_continues !== null && c.if_rain_continues !== undefined) {
    // still rising where the forecast stops looking: a floor, with no time to give
    rows.push(h("dt", {}, T("if_rain_continues")), h("dd", {}, c.still_rising_at_horizon
      ? `≥ ${fmt(c.if_rain_continues, decimals)} ${unit} (${T("still_rising")})`
      : `${fmt(c.if_rain_continues, decimals)} ${unit} ${T("about")} ${when(c.if_rain_continues_at).slice(0, 5)}`));
  }
  const phe = c.phe_at || c.phe_if_rain_continues_at;  // the dam's highest safe level, when foreseen
  if (c.phe !== null && c.phe !== undefined && phe) {
    rows.push(h("dt", { class: "danger" }, `${T("phe")} ${fmt(c.phe, decimals)} ${unit}`), h("dd", { class: "danger" },
      `${T("about")} ${when(phe).slice(0, 5)}` + (c.phe_at ? "" : ` ${T("if_rain_goes_on")}`)));
  }
  return rows;
}

function slopeEta(dam) {
  if (dam.eta_min === null || dam.eta_min === undefined) {
    return dam.rate_per_h !== null && dam.rate_per_h !== undefined && dam.rate_per_h <= 0 ? T("no_forecast") : "—";
  }
  const minutes = Math.round(dam.eta_min);
  if (minutes <= 0) return T("crest_reached");  // there already: no minutes to count
  return minutes >= 120 ? `${Math.floor(minutes / 60)} ${T("h")} ${minutes % 60} ${T("min")}` : `${minutes} ${T("min")}`;
}

