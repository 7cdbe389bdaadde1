// The alarms: those in force, by urgency, acknowledged or shelved with a comment; the journal.
import { RANK, SHAPE, T, api, fmt, h, header, main, message, onNextFrame, showError, stream, when, siteNow } from "./app.js";

const me = await header("alarms");
const canOperate = me.role !== "viewer";
const dams = await api("/dams");
const alarms = new Map();
const station = h("select", { id: "f-station" }, h("option", { value: "" }, T("all_dams")),
  dams.map((d) => h("option", { value: d.id }, d.name)));
const priority = h("select", { id: "f-priority" }, h("option", { value: "" }, T("all_priorities")),
  ["critical", "high", "medium", "low"].map((p) => h("option", { value: p }, `${SHAPE[p]} ${T(p)}`)));
const scope = h("select", { id: "f-scope" }, h("option", { value: "active" }, T("active_only")),
  h("option", { value: "all" }, T("all_states")));
for (const control of [station, priority, scope]) control.addEventListener("change", () => { draw(); journal(); });
const list = h("ul", { class: "alarmlist", id: "alarms", "aria-live": "polite" });
const log = h("tbody", {});

main().replaceChildren(
  h("h1", {}, T("active_alarms")),
  canOperate ? "" : h("p", { class: "muted" }, T("read_only")),
  h("div", { class: "filters" },
    h("label", { for: "f-station" }, T("dam"), station),
    h("label", { for: "f-priority" }, T("priority"), priority),
    h("label", { for: "f-scope" }, T("show"), scope)),
  list,
  h("h2", { class: "journal-title" }, T("journal")),
  h("div", { class: "tablewrap", tabindex: 0, role: "region", "aria-label": T("journal") }, h("table", { id: "journal" },
    h("thead", {}, h("tr", {}, [T("when"), T("action"), T("message"), T("value"), T("who"), T("comment")]
      .map((c) => h("th", { scope: "col" }, c)))), log)),
);

function kept(a) {
  if (station.value && a.station !== station.value) return false;
  if (priority.value && a.priority !== priority.value) return false;
  if (scope.value === "active") return a.status === "unacknowledged" || a.status === "acknowledged" ||
    a.status === "returned_unacknowledged";
  return a.status !== "normal";
}

function order(a, b) {
  const unacked = (x) => (x.status === "unacknowledged" || x.status === "returned_unacknowledged" ? 1 : 0);
  return unacked(b) - unacked(a) || RANK[b.priority] - RANK[a.priority] || (b.since || "").localeCompare(a.since || "");
}

async function act(alarm, path, body, where) {
  try {
    await api(`/alarms/${encodeURIComponent(alarm.id)}/${path}`, { method: "POST", body: { user: me.user || me.name, ...body } });
    where.replaceChildren(h("p", { role: "status" }, T("done")));
  } catch (error) { showError(where, error); }
}

function form(alarm, kind, where) {
  const id = `${kind}-${alarm.id}`.replace(/[^a-zA-Z0-9_-]/g, "_");
  const words = h("input", { id: id + "-text", name: "text", required: kind === "shelve", maxlength: 1000 });
  const minutes = h("select", { id: id + "-min" }, [15, 60, 240, 720].map((m) => h("option", { value: m }, `${m} ${T("minutes")}`)));
  const out = h("div", {});
  const element = h("form", { onsubmit: (event) => {
    event.preventDefault();
    if (kind === "ack") act(alarm, "ack", { comment: words.value }, out);
    else act(alarm, "shelve", { reason: words.value, duration_min: Number(minutes.value) }, out);
  } },
    h("label", { for: words.id }, kind === "ack" ? T("comment") : T("reason"), words),
    kind === "shelve" ? h("label", { for: minutes.id }, T("duration"), minutes) : null,
    h("button", { type: "submit", class: "primary" }, T("confirm")),
    h("button", { type: "button", onclick: () => where.replaceChildren() }, T("cancel")), out);
  where.replaceChildren(element);
  words.focus();
}

function row(a) {
  const actions = h("div", { class: "actions" });
  const slot = h("div", {});
  if (canOperate) {
    if (a.status === "unacknowledged" || a.status === "returned_unacknowledged")
      actions.append(h("button", { type: "button", class: "primary", onclick: () => form(a, "ack", slot) }, T("ack")));
    if (a.status === "shelved")
      actions.append(h("button", { type: "button", onclick: () => act(a, "unshelve", { comment: "" }, slot) }, T("unshelve")));
    else actions.append(h("button", { type: "button", onclick: () => form(a, "shelve", slot) }, T("shelve")));
  }
  const decimals = 2;
  return h("li", { class: `alarm ${a.priority} ${a.status}`, "data-alarm": a.id },
    h("div", { class: "top" },
      h("span", { class: "badge " + a.priority }, `${SHAPE[a.priority]} ${T(a.priority)}`),
      h("span", { class: "msg" }, message(a)),
      h("span", {}, T(a.status))),
    h("div", { class: "muted" },
      `${a.station_name} · ${T("raised_at")} ${when(a.since, true)}`,
      a.raised_value !== null ? ` · ${T("value")} ${fmt(a.raised_value, decimals)}` : "",
      a.limit !== null ? ` (${T("limit")} ${fmt(a.limit, decimals)})` : "",
      a.value !== null ? ` · ${T("now_value")} ${fmt(a.value, decimals)}` : "",
      a.acknowledged_by ? ` · ${T("acknowledged_by")} ${a.acknowledged_by}` : "",
      a.shelved_by ? ` · ${T("shelved_by")} ${a.shelved_by} ${T("until")} ${when(a.shelved_until, true)}` : ""),
    actions, slot);
}

const draw = onNextFrame(() => {
  const shown = [...alarms.values()].filter(kept).sort(order);
  list.replaceChildren(...(shown.length ? shown.map(row) : [h("li", { class: "muted" }, T("none_active"))]));
});

let loading = null;
async function journal() {
  if (loading) return;
  loading = (async () => {
    const since = new Date(siteNow() - 24 * 3600e3).toISOString();  // the last day, newest first
    const data = await api(`/alarms/journal?from=${since}&limit=5000`);
    data.entries.reverse();
    data.entries.splice(100);
    const words = { raised: T("raised"), cleared: T("cleared_ev") };
    log.replaceChildren(...data.entries.filter((e) => !station.value || e.alarm.includes(":" + station.value + "."))
      .map((e) => h("tr", {}, h("td", {}, when(e.ts, true)), h("td", {}, words[e.action] || T(e.action) || e.action),
        h("td", {}, message(e)),
        h("td", {}, fmt(e.value, 2)), h("td", {}, e.user || ""), h("td", {}, e.comment || ""))));
  })().finally(() => { loading = null; });
}
journal();

stream("alarm", {
  snapshot(event) { alarms.clear(); for (const a of event.alarms) alarms.set(a.id, a); draw(); },
  alarm(event) { if (event.alarm) alarms.set(event.alarm.id, event.alarm); draw(); journal(); },
});
