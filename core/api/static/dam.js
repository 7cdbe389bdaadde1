// One dam: its synoptic drawn from the config (the same tag roles as the desktop) with live
// values, and the trend of any of its measurements over the historian: min–max band, limits,
// zoom and pan, CSV. Times in the site's zone, as on every page.
import { ALARMS, RANK, SHAPE, T, api, fmt, forecastRows, freshForecasts, h, header, lang, main, message, onNextFrame, stream, when, ZONE, siteNow } from "./app.js";

await header("dam");
const id = decodeURIComponent(location.pathname.split("/").pop());
const dam = (await api("/dams")).find((d) => d.id === id);
const here = main();
if (!dam) {
  here.replaceChildren(h("h1", {}, T("dam")), h("p", { class: "notice", role: "alert" }, `? ${id}`));
  throw new Error("unknown dam");
}
const tags = await api("/tags");
const byId = new Map(tags.map((t) => [t.id, t]));
const latest = new Map();
const label = (tag) => (lang === "en" ? tag.label_en : tag.label_fr) || tag.id;

// -- the synoptic ------------------------------------------------------------------------------
const drawing = h("div", {});
const values = h("dl", { class: "values", id: "values" });

function valueOf(role) {
  const tag = dam.tags[role];
  const sample = tag ? latest.get(tag) : null;
  return sample && sample.value !== null ? sample.value : null;
}

function synoptic() {
  const level = dam.level;
  const [low, high] = level && level.range ? level.range : [0, 20];
  const y = (v) => 190 - ((v - low) / (high - low || 1)) * 160;
  const water = valueOf("level");
  const top = water === null ? 190 : Math.max(30, Math.min(190, y(water)));
  const alarm = [...ALARMS.values()].filter((a) => a.active && level && a.tag === level.tag)
    .sort((a, b) => RANK[b.priority] - RANK[a.priority])[0];
  const gate = valueOf("gate");
  return h("svg", { class: "synoptic", viewBox: "0 0 420 220", role: "img",
    "aria-label": `${T("synoptic")} ${dam.name} : ${T("level")} ${fmt(water, level ? level.decimals : 2)} ${level ? level.unit : ""}` },
    h("rect", { class: "ground", x: 0, y: 190, width: 420, height: 30 }),
    h("rect", { class: "water" + (alarm ? " alarmed " + alarm.priority : ""), x: 40, y: top, width: 230, height: 190 - top }),
    h("polyline", { class: "outline", points: "40,30 40,190 270,190" }),
    level ? Object.entries(level.limits).filter(([, v]) => v >= low && v <= high).flatMap(([name, v]) => [
      h("line", { class: "limit " + name, x1: 40, x2: 270, y1: y(v), y2: y(v) }),
      h("text", { x: 4, y: y(v) + 4 }, name)]) : [],
    // the dam body, its spillway crest at the top and the bottom outlet with its gate
    h("polyline", { class: "wall", points: "270,190 270,40 300,40 330,190" }),
    dam.tags.spillway_flow ? h("polyline", { class: "outline", points: "300,40 330,40 380,120" }) : null,
    dam.tags.gate ? h("rect", { class: "outline", x: 282, y: 170, width: 60, height: 12 }) : null,
    dam.tags.gate && gate !== null ? h("rect", { class: "water", x: 282, y: 170, width: Math.max(0, Math.min(60, gate * 0.6)), height: 12 }) : null,
    h("text", { x: 48, y: 22 }, T("reservoir")));
}

/** A discrete tag in words (a door open or closed), a measurement with its unit. */
function shownValue(role, meta, value) {
  if (meta && meta.kind === "discrete" && value !== null) {
    const words = meta.states && (meta.states[lang] || meta.states.fr);  // the site's words for 0 and 1
    if (words) return words[value >= 0.5 ? 1 : 0];
    if (role === "door") return T(value ? "door_open" : "door_closed");
    return T(value ? "state_on" : "state_off");
  }
  return `${fmt(value, meta ? meta.decimals : 2)} ${meta ? meta.unit : ""}`.trim();
}

// -- the forecast and the dam's alarms ------------------------------------------------------------
const forecast = h("dl", { class: "values", id: "forecast" });
const alarmList = h("ul", { class: "alarmlist", id: "dam-alarms" });

function drawForecast() {
  forecast.replaceChildren(...(dam.level ? forecastRows(dam, latest) : [h("dd", {}, "—")]));
  const mine = [...ALARMS.values()].filter((a) => a.station === dam.id && a.status !== "normal")
    .sort((a, b) => RANK[b.priority] - RANK[a.priority] || (b.since || "").localeCompare(a.since || ""));
  alarmList.replaceChildren(...(mine.length ? mine.map((a) => h("li", { class: `alarm ${a.priority} ${a.status}`, "data-alarm": a.id },
    h("div", { class: "top" },
      h("span", { class: "badge " + a.priority }, `${SHAPE[a.priority]} ${T(a.priority)}`),
      h("span", { class: "msg" }, message(a)),
      h("span", {}, T(a.status))),
    h("div", { class: "muted" }, `${T("raised_at")} ${when(a.since, true)}`,
      a.acknowledged_by ? ` · ${T("acknowledged_by")} ${a.acknowledged_by}` : ""))) : [h("li", { class: "muted" }, T("none_active"))]));
}

async function refreshForecast() {  // the trend and crest forecast are the server's, every 30 s
  await freshForecasts([dam]);
  drawForecast();
}

function drawValues() {
  const rows = [];
  for (const [role, tag] of Object.entries(dam.tags)) {
    const meta = byId.get(tag);
    const sample = latest.get(tag);
    const shown = sample ? shownValue(role, meta, sample.value) : "—";
    const note = sample && sample.quality !== "good" ? ` (${T(sample.quality)})` : "";
    const alarm = [...ALARMS.values()].filter((a) => a.tag === tag && a.active).sort((a, b) => RANK[b.priority] - RANK[a.priority])[0];
    rows.push(h("dt", {}, h("a", { href: "#trend", onclick: () => { choose.value = tag; load(); } }, meta ? label(meta) : T(role))),
      h("dd", { "data-tag": tag, class: sample ? "quality-" + sample.quality : "" },
        alarm ? h("span", { class: "badge " + alarm.priority }, SHAPE[alarm.priority]) : "", " ", shown + note));
  }
  values.replaceChildren(...rows);
  drawing.replaceChildren(synoptic());
  drawForecast();
}

// -- the trend ------------------------------------------------------------------------------
const choose = h("select", { id: "trend-tag" }, Object.values(dam.tags).map((tag) =>
  h("option", { value: tag }, byId.get(tag) ? label(byId.get(tag)) : tag)));
if (dam.level) choose.value = dam.level.tag;
const spans = [["1 h", 3600e3], ["6 h", 6 * 3600e3], ["24 h", 86400e3], ["7 j", 7 * 86400e3]];
let span = 6 * 3600e3, end = null; // end null: following now
const chart = h("div", {});
const csv = h("button", { type: "button", onclick: download }, T("csv"));
let buckets = [];

async function load() {
  const to = end === null ? siteNow() : end;
  const from = to - span;
  const query = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), max_points: "400" });
  const data = await api(`/tags/${encodeURIComponent(choose.value)}/history?${query}`);
  buckets = data.buckets || [];
  drawChart(from, to);
}

function ticks(from, to) {
  const steps = [60e3, 300e3, 900e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 86400e3];
  const step = steps.find((s) => (to - from) / s <= 6) || 86400e3;
  const out = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

function drawChart(from, to) {
  const meta = byId.get(choose.value) || { unit: "", decimals: 2 };
  const width = 800, height = 320, left = 60, right = 10, top = 14, bottom = 40;
  const usable = buckets.filter((b) => b.min !== null && b.count > 0);
  const limits = dam.level && choose.value === dam.level.tag ? dam.level.limits : {};
  const values = usable.flatMap((b) => [b.min, b.max]).concat(Object.values(limits));
  let lo = values.length ? Math.min(...values) : 0, hi = values.length ? Math.max(...values) : 1;
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.05; lo -= pad; hi += pad;
  const x = (t) => left + ((t - from) / (to - from)) * (width - left - right);
  const y = (v) => top + (1 - (v - lo) / (hi - lo)) * (height - top - bottom);
  const gap = span / 400 * 3; // a hole wider than three buckets breaks the line
  const runs = [];
  let run = [];
  for (const b of usable) {
    const t = Date.parse(b.start);
    if (run.length && t - run[run.length - 1].t > gap) { runs.push(run); run = []; }
    run.push({ t, b });
  }
  if (run.length) runs.push(run);
  const format = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR",
    span > 86400e3 ? { timeZone: ZONE, weekday: "short", day: "numeric", hour: "2-digit" } : { timeZone: ZONE, hour: "2-digit", minute: "2-digit" });
  const yTicks = niceTicks(lo, hi);
  const svg = h("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `${T("trends")} ${label(meta)} (${meta.unit}) ${when(new Date(from).toISOString(), true)} – ${when(new Date(to).toISOString(), true)}` },
    yTicks.map((v) => [h("line", { class: "grid", x1: left, x2: width - right, y1: y(v), y2: y(v) }),
      h("text", { x: 4, y: y(v) + 4 }, fmt(v, meta.decimals))]),
    ticks(from, to).map((t) => [h("line", { class: "grid", x1: x(t), x2: x(t), y1: top, y2: height - bottom }),
      h("text", { x: x(t) - 20, y: height - bottom + 16 }, format.format(new Date(t)))]),
    h("text", { x: 4, y: height - 6 }, `${label(meta)} (${meta.unit}) — ${T("minmax")}`),
    Object.entries(limits).map(([name, v]) => [h("line", { class: "limit " + name, x1: left, x2: width - right, y1: y(v), y2: y(v) }),
      h("text", { x: width - right - 30, y: y(v) - 4 }, name)]),
    runs.map((r) => [
      h("polyline", { class: "band", points: r.map(({ t, b }) => `${x(t).toFixed(1)},${y(b.max).toFixed(1)}`)
        .concat(r.slice().reverse().map(({ t, b }) => `${x(t).toFixed(1)},${y(b.min).toFixed(1)}`)).join(" ") }),
      h("polyline", { class: "line", points: r.map(({ t, b }) => `${x(t).toFixed(1)},${y(b.avg).toFixed(1)}`).join(" ") })]));
  // zoom with the wheel around the pointer, pan by dragging
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = svg.getBoundingClientRect();
    const at = from + ((event.clientX - box.left) / box.width) * (to - from);
    const factor = event.deltaY > 0 ? 1.5 : 1 / 1.5;
    span = Math.max(10 * 60e3, Math.min(366 * 86400e3, span * factor));
    end = Math.min(siteNow(), at + (to - at) * factor);
    schedule();
  }, { passive: false });
  let dragging = null;
  svg.addEventListener("pointerdown", (event) => { dragging = { x: event.clientX, end: to }; svg.setPointerCapture(event.pointerId); });
  svg.addEventListener("pointerup", () => { dragging = null; });
  svg.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    const box = svg.getBoundingClientRect();
    end = Math.min(siteNow(), dragging.end - ((event.clientX - dragging.x) / box.width) * span);
    schedule();
  });
  chart.replaceChildren(svg);
}

/** Round values for the axis: steps of 1, 2 or 5 times a power of ten. */
function niceTicks(lo, hi) {
  const raw = (hi - lo) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(v);
  return out;
}

let timer = null;
function schedule() { clearTimeout(timer); timer = setTimeout(load, 150); }

async function download() {
  const to = end === null ? siteNow() : end;
  const query = new URLSearchParams({ from: new Date(to - span).toISOString(), to: new Date(to).toISOString(), max_points: "100000", agg: "raw" });
  const response = await fetch(`/api/v1/tags/${encodeURIComponent(choose.value)}/history?${query}`,
    { headers: { Accept: "text/csv" }, credentials: "same-origin" });
  const link = h("a", { href: URL.createObjectURL(await response.blob()), download: `${choose.value}.csv` });
  document.body.append(link); link.click(); link.remove();
}

choose.addEventListener("change", load);
here.replaceChildren(
  h("h1", {}, dam.name),
  h("div", { class: "two" },
    h("section", { class: "panel", "aria-labelledby": "syn-title" }, h("h2", { id: "syn-title" }, T("synoptic")), drawing),
    h("section", { class: "panel", "aria-labelledby": "val-title" }, h("h2", { id: "val-title" }, T("details")), values)),
  h("div", { class: "two" },
    h("section", { class: "panel", "aria-labelledby": "fc-title" }, h("h2", { id: "fc-title" }, T("forecast")), forecast),
    h("section", { class: "panel", "aria-labelledby": "al-title" }, h("h2", { id: "al-title" }, T("active_alarms")), alarmList)),
  h("section", { class: "panel", id: "trend", "aria-labelledby": "trend-title" },
    h("h2", { id: "trend-title" }, T("trends")),
    h("div", { class: "toolbar" },
      h("label", { for: "trend-tag" }, T("tag"), choose),
      spans.map(([name, ms]) => h("button", { type: "button", "aria-pressed": String(span === ms), onclick: () => { span = ms; end = null; load(); } }, name)),
      h("button", { type: "button", "aria-label": T("earlier"), onclick: () => { end = (end === null ? siteNow() : end) - span / 2; load(); } }, "◀"),
      h("button", { type: "button", "aria-label": T("later"), onclick: () => { end = end === null ? null : Math.min(siteNow(), end + span / 2); load(); } }, "▶"),
      h("button", { type: "button", onclick: () => { end = null; load(); } }, T("now")),
      csv),
    chart));
drawValues();
await load();
setInterval(() => { if (end === null) load(); refreshForecast(); }, 30000);

const redraw = onNextFrame(drawValues);
stream("samples,station,alarm", {
  snapshot(event) { for (const s of event.latest) latest.set(s.tag, s); redraw(); },
  samples(event) { for (const s of event.samples) latest.set(s.tag, s); redraw(); },
  alarm() { redraw(); refreshForecast(); },
});
