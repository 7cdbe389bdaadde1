// An incident link from a page, an e-mail or an SMS: see the incident, acknowledge it with one
// confirmation, without signing in. The token in the address is the credential.
import { ApiError, SHAPE, T, api, h, header, lang, main, message, when } from "./app.js";

await header("link");
const token = location.pathname.split("/").pop();
const here = main();

function refused(error) {
  here.replaceChildren(h("h1", {}, T("link_refused")),
    h("p", { class: "notice", role: "alert" }, error instanceof ApiError ? error.message : String(error)),
    h("p", {}, h("a", { href: "/login?next=/oncall" }, T("sign_in_instead"))));
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
