// An incident link from a page, an e-mail or an SMS: see the incident, acknowledge it with one
// confirmation, without signing in. The token in the address is the credential.
import { ApiError, SHAPE, T, api, fmt, h, header, lang, main, message, when } from "./app.js";

await header("link");
const token = location.pathname.split("/").pop();
const here = main();

function refused(error) {
  here.replaceChildren(h("h1", {}, T("link_refused")),
    h("p", { class: "notice", role: "alert" }, error instanceof ApiError ? error.message : String(error)),
    h("p", {}, h("a", { href: "/login?next=/oncall" }, T("sign_in_instead"))));
}

/** The alarm's tag over the last three hours against its limits: how fast, how close. */
function trend(a) {
  const points = a.trend.map((p) => [Date.parse(p.at), p.value]);
  const width = 300, height = 80, pad = 10, left = 40;
  if (points.length < 2) return "";
  const limits = Object.entries(a.limits);
  const values = points.map((p) => p[1]).concat(limits.map(([, v]) => v));
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  const t1 = points[points.length - 1][0], t0 = Math.min(points[0][0], t1 - 3 * 3600e3);
  const x = (t) => left + ((t - t0) / (t1 - t0 || 1)) * (width - left - 4);
  const y = (v) => height - pad - ((v - lo) / span) * (height - 2 * pad);
  const d = a.decimals;
  return h("svg", { class: "spark incident-trend", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `${T("trend")} ${T("last3h")} : ${fmt(points[0][1], d)} → ${fmt(points[points.length - 1][1], d)} ${a.unit}` },
    h("line", { class: "axis", x1: left - 2, x2: left - 2, y1: pad, y2: height - pad }),
    h("text", { x: 0, y: pad + 3 }, fmt(hi, d)),
    h("text", { x: 0, y: height - pad + 3 }, fmt(lo, d)),
    h("text", { x: left, y: height - 1 }, `−3 ${T("h")}`),
    limits.map(([name, v]) => [h("line", { class: "limit " + name, x1: left, x2: width, y1: y(v), y2: y(v) }),
      h("text", { x: width - 24, y: y(v) - 2 }, name)]),
    h("polyline", { points: points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ") }));
}

async function show(said) {
  let view;
  try { view = await api(`/links/${encodeURIComponent(token)}`); } catch (error) { refused(error); return; }
  // an exhausted escalation (nobody answered) still waits for someone to take charge
  const open = view.state === "open" || view.state === "exhausted";
  const result = h("p", { role: "status", id: "result" }, said || "");
  const confirm = h("button", { type: "button", class: "primary", id: "confirm", onclick: async () => {
    confirm.disabled = true;
    try {
      const answer = await api(`/links/${encodeURIComponent(token)}/ack`, { method: "POST" });
      await show(answer.message);
    } catch (error) { refused(error); }
  } }, `${T("ack_incident")} ${view.incident}`);
  // "I cannot take it": the next level is paged now, not at its time (the link stays valid to acknowledge)
  const escalate = h("button", { type: "button", id: "escalate", onclick: async () => {
    escalate.disabled = true;
    try {
      const answer = await api(`/links/${encodeURIComponent(token)}/escalate`, { method: "POST" });
      await show(answer.message);
    } catch (error) { refused(error); }
  } }, T("escalate_now"));
  const due = view.due ? h("p", { class: "next-step" }, `${T("next_step")} : `, view.due.level === null
    ? T("escalation_ends").replace("{at}", when(view.due.at).slice(0, 5))
    : T("next_level").replace("{level}", view.due.level + 1).replace("{at}", when(view.due.at).slice(0, 5))
        .replace("{people}", view.due.people.join(", ") || "—")) : "";
  here.replaceChildren(
    h("h1", {}, `${T("incident")} ${view.incident} · `, h("span", { class: "state-" + view.state }, T(view.state))),
    h("p", { class: "muted" }, `${T("for_person")} ${view.person} · ${T("opened")} ${when(view.opened_at, true)}`),
    h("ul", { class: "alarmlist" }, view.alarms.map((a) => h("li", { class: `alarm ${a.priority}` },
      h("div", { class: "top" }, a.priority ? h("span", { class: "badge " + a.priority }, `${SHAPE[a.priority]} ${T(a.priority)}`) : "",
        h("span", { class: "msg" }, message(a))),
      h("p", { class: "facts" }, (lang === "en" ? a.facts_en : a.facts_fr).join(" · ")),
      trend(a),
      a.station_id ? h("p", {}, h("a", { href: `/dams/${encodeURIComponent(a.station_id)}` }, `${T("open_dam")} ${a.station}`)) : ""))),
    open ? h("div", { class: "panel" }, h("p", {}, T(view.state === "exhausted" ? "exhausted_take" : "take_charge")), confirm,
      view.state === "open" ? h("p", {}, escalate) : "", due,
      h("p", { class: "muted" }, `${T("link_until")} ${when(view.expires, true)}`))
      : h("p", { class: "panel" }, `${T("already")}${view.acked_by ? ` ${T("by")} ${view.acked_by} (${when(view.acked_at, true)})` : ""}.`),
    result,
    h("h2", {}, T("timeline")),
    h("ol", { class: "timeline" }, view.timeline.map((step) => h("li", {},
      `${when(step.at).slice(0, 5)} · ${step.person} · ${T(step.channel)} · ${T("kind_" + step.kind)} · ${T("delivery_" + step.state)}`))));
}

await show();
