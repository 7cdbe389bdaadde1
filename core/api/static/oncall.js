// On call: who is on call now and next, the open incidents, who was paged when and by which channel.
import { T, api, h, header, lang, main, stream, when } from "./app.js";

await header("oncall");
const teams = h("div", { id: "teams" });
const incidents = h("div", { id: "incidents" });
main().replaceChildren(h("h1", {}, T("oncall")), teams, h("h2", {}, T("incidents")), incidents);

function table(headings, rows, name) {
  return h("div", { class: "tablewrap", tabindex: 0, role: "region", "aria-label": name }, h("table", {},
    h("thead", {}, h("tr", {}, headings.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows)));
}

async function load() {
  let data;
  try { data = await api("/oncall"); } catch (error) {
    teams.replaceChildren(h("p", { class: "muted" }, error.message)); return;
  }
  if (!data.configured) { teams.replaceChildren(h("p", { class: "muted" }, T("no_roster"))); incidents.replaceChildren(); return; }
  teams.replaceChildren(table([T("team"), T("on_call_now"), T("next")], data.teams.map((t) => h("tr", {},
    h("th", { scope: "row" }, t.name),
    h("td", {}, t.now.person, h("div", { class: "muted" }, `${T("until")} ${when(t.now.end, true)}`, t.now.reason ? ` (${t.now.reason})` : "")),
    h("td", {}, t.next.person, h("div", { class: "muted" }, when(t.next.start, true))))), T("oncall")));
  const down = Object.entries(data.channels_down || {});  // a failed channel is skipped: say so, and until when
  if (down.length) teams.append(h("p", { class: "notice", role: "alert" }, down.map(([channel, until]) =>
    `${T("channel_down")} : ${T("channel_" + channel)} ${T("until")} ${when(until, true)}`).join(" · ")));
  if (!data.incidents.length) { incidents.replaceChildren(h("p", { class: "muted" }, T(data.paging === false ? "no_escalation" : "none_incident"))); return; }
  incidents.replaceChildren(...data.incidents.map((i) => h("section", { class: "panel", "data-incident": i.id },
    h("h3", {}, `${T("incident")} ${i.id} · `, h("span", { class: "state-" + i.state }, T(i.state))),
    h("p", { class: "muted" }, `${T("opened")} ${when(i.opened_at, true)} · ${T("escalation_level")} ${i.level + 1}`,
      i.acked_by ? ` · ${T("acknowledged_by")} ${i.acked_by} ${when(i.acked_at, true)}` : ""),
    h("ul", { class: "paged-alarms" }, (lang === "en" ? i.messages_en : i.messages_fr).map((m) => h("li", {}, m))),
    i.due ? h("p", { class: "next-step" }, `${T("next_step")} : `, i.due.level === null
      ? T("escalation_ends").replace("{at}", when(i.due.at).slice(0, 5))
      : T("next_level").replace("{level}", i.due.level + 1).replace("{at}", when(i.due.at).slice(0, 5))
          .replace("{people}", i.due.people.join(", ") || "—")) : "",
    table([T("when"), T("person"), T("channel"), T("state"), T("action")], i.deliveries.map((d) => h("tr", {},
      h("td", {}, when(d.created_at, true)), h("td", {}, d.person), h("td", {}, T(d.channel)),
      // the provider's message id means nothing to a person: only a failure's reason is said
      h("td", {}, T("delivery_" + d.state) + (d.detail && ["failed", "skipped", "retry"].includes(d.state) ? ` (${d.detail})` : "")),
      h("td", {}, `${T("kind_" + d.kind)} · ${T("escalation_level").toLowerCase()} ${d.level + 1}`))),
      `${T("paged")} ${i.id}`)),
  ));
}

await load();
setInterval(load, 15000);
stream("alarm", { alarm() { setTimeout(load, 500); } });
