// The overview: every dam on one screen, the dam in trouble first and unmistakable.
import { EMBED, RANK, T, api, forecastRows, freshForecasts, message, onNextFrame, fmt, h, header, main, priorityBadge, stream, siteNow, when } from "./app.js";

await header("overview");
const dams = await api("/dams");
const latest = new Map(); // tag → sample
const alarms = new Map(); // alarm id → alarm view
const history = new Map(); // level tag → [[ms, value]]
const HOURS = 6;

async function loadHistory(dam) {
  if (!dam.level) return;
  const since = new Date(siteNow() - HOURS * 3600e3).toISOString();
  const data = await api(`/tags/${encodeURIComponent(dam.level.tag)}/history?from=${since}&max_points=180`);
  history.set(dam.level.tag, (data.buckets || []).filter((b) => b.last !== null)
    .map((b) => [Date.parse(b.start), b.last]));
}
await Promise.all(dams.map(loadHistory));

function active(dam) {
  return [...alarms.values()].filter((a) => a.station === dam.id && a.active &&
    !["shelved", "suppressed", "out_of_service"].includes(a.status));
}

function worst(list) {
  return list.reduce((best, a) => (RANK[a.priority] > RANK[best] ? a.priority : best), "low");
}

function urgency(dam) {
  const list = active(dam);
  const lost = dam.link !== "connected" && dam.link !== "backfilling";
  return (list.length ? RANK[worst(list)] * 10 : 0) + (lost ? 35 : 0) + list.length;
}

function gauge(dam, value) {
  const level = dam.level;
  const [low, high] = level.range || [0, Math.max(...Object.values(level.limits), value || 1) * 1.1];
  const y = (v) => 110 - ((v - low) / (high - low || 1)) * 100;
  const top = value === null || value === undefined ? 110 : Math.max(10, Math.min(110, y(value)));
  return h("svg", { class: "gauge", width: 56, height: 120, viewBox: "0 0 56 120", role: "img",
    "aria-label": `${T("level")} ${fmt(value, level.decimals)} ${level.unit}` },
    h("rect", { class: "water", x: 6, y: top, width: 18, height: 110 - top }),
    h("rect", { class: "tube", x: 6, y: 10, width: 18, height: 100 }),
    labelled(Object.entries(level.limits).filter(([, v]) => v >= low && v <= high), y).flatMap(([name, v, at]) => [
      h("line", { class: "limit " + name, x1: 2, x2: 28, y1: y(v), y2: y(v) }),
      h("text", { x: 31, y: at + 3 }, name)]));
}

/** Limits with where to write their names: at least 10 px apart, so that H and HH never overlap. */
function labelled(limits, y) {
  const out = [];
  for (const [name, v] of [...limits].sort((a, b) => b[1] - a[1])) {
    const at = out.length ? Math.max(y(v), out[out.length - 1][2] + 10) : y(v);
    out.push([name, v, at]);
  }
  return out;
}

function spark(dam) {
  const points = history.get(dam.level.tag) || [];
  const width = 300, height = 72, pad = 12;
  if (points.length < 2) return h("svg", { class: "spark", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": T("trend") + " : —" });
  const values = points.map((p) => p[1]);
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || 1;
  const t0 = siteNow() - HOURS * 3600e3, t1 = siteNow();
  const x = (t) => 34 + ((t - t0) / (t1 - t0)) * (width - 38);
  const y = (v) => height - pad - ((v - lo) / span) * (height - 2 * pad);
  const d = dam.level.decimals;
  return h("svg", { class: "spark", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img",
    "aria-label": `${T("trend")} ${T("last6h")} : ${fmt(lo, d)} – ${fmt(hi, d)} ${dam.level.unit}` },
    h("line", { class: "axis", x1: 32, x2: 32, y1: pad, y2: height - pad }),
    h("text", { x: 0, y: pad + 3 }, fmt(hi, d)),
    h("text", { x: 0, y: height - pad + 3 }, fmt(lo, d)),
    h("text", { x: 34, y: height - 1 }, `−${HOURS} ${T("h")}`),
    Object.entries(dam.level.limits).filter(([, v]) => v >= lo && v <= hi).map(([name, v]) =>
      h("line", { class: "limit " + name, x1: 34, x2: width, y1: y(v), y2: y(v) })),
    runs(points).map((run) => h("polyline", { points: run.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ") })));
}

/** The points split where the station was silent: a gap is drawn as a gap, not a straight line. */
function runs(points) {
  const out = [];
  let run = [];
  for (const point of points) {
    if (run.length && point[0] - run[run.length - 1][0] > 10 * 60e3) { out.push(run); run = []; }
    run.push(point);
  }
  if (run.length) out.push(run);
  return out;
}

function value(dam, role) {
  const tag = dam.tags[role];
  if (!tag) return null;
  const sample = latest.get(tag);
  if (!sample) return "—";
  const note = sample.quality === "good" ? "" : ` (${T(sample.quality)})`;
  return `${fmt(sample.value, 1)} ${dam.units[role] || ""}${note}`;
}

function card(dam) {
  const list = active(dam);
  const lost = dam.link !== "connected" && dam.link !== "backfilling";
  const priority = list.length ? worst(list) : null;
  const sample = dam.level ? latest.get(dam.level.tag) : null;
  const classes = ["card", priority ? "sev-" + priority : "", lost ? "lost" : ""].join(" ");
  const rows = ["inflow", "outflow", "spillway_flow", "rain"].filter((r) => dam.tags[r])
    .flatMap((role) => [h("dt", {}, T(role)), h("dd", {}, value(dam, role))]);
  return h("article", { class: classes, "aria-labelledby": "dam-" + dam.id, "data-dam": dam.id },
    h("header", {},
      h("h2", { id: "dam-" + dam.id }, EMBED ? dam.name : h("a", { href: "/dams/" + encodeURIComponent(dam.id) }, dam.name)),
      priority ? priorityBadge(priority, list.length) : null,
      lost ? h("span", { class: "badge lost" }, "✕ " + T("lost")) : null,
      !priority && !lost ? h("span", { class: "badge calm" }, "✓ " + T("calm")) : null),
    dam.level ? h("div", { class: "levelrow" }, gauge(dam, sample ? sample.value : null),
      h("div", {},
        h("div", { class: "muted" }, T("level")),
        h("span", { class: "big quality-" + (sample ? sample.quality : "bad"), "data-role": "level" },
          fmt(sample ? sample.value : null, dam.level.decimals)),
        " ", dam.level.unit,
        sample && sample.quality !== "good" ? h("div", { class: "quality-note" }, T(sample.quality)) : null,
        h("div", { class: "muted" }, Object.entries(dam.level.limits).map(([k, v]) =>
          `${k} ${fmt(v, dam.level.decimals)}`).join(" · ")))) : null,
    dam.level ? spark(dam) : null,
    h("dl", { class: "values" }, rows,
      forecastRows(dam, latest),
      h("dt", {}, T("link")), h("dd", {}, T(dam.link)),
      list.length ? [h("dt", {}, T("alarms")), h("dd", {}, list.map(message).join(" ; "))] : null));
}


const grid = h("div", { class: "grid", id: "dams" });
main().replaceChildren(h("h1", {}, T("overview")), grid);

const draw = onNextFrame(() => {
  const order = [...dams].sort((a, b) => urgency(b) - urgency(a) || a.name.localeCompare(b.name));
  grid.replaceChildren(...order.map(card));
});

function take(sample) {
  latest.set(sample.tag, sample);
  const points = history.get(sample.tag);
  if (points && sample.value !== null) {
    const t = Date.parse(sample.ts);
    if (!points.length || t > points[points.length - 1][0]) points.push([t, sample.value]);
    const cut = siteNow() - HOURS * 3600e3;
    while (points.length && points[0][0] < cut) points.shift();
  }
}

let refreshing = false;
async function refreshForecasts() {  // the trend and crest forecast are the server's, every 30 s
  if (refreshing) return;
  refreshing = true;
  try {
    await freshForecasts(dams);
    draw();
  } finally { refreshing = false; }
}
setInterval(refreshForecasts, 30000);

stream("samples,station,alarm", {
  snapshot(event) {
    alarms.clear();
    for (const a of event.alarms) alarms.set(a.id, a);
    for (const s of event.latest) take(s);
    for (const st of event.stations) {
      const dam = dams.find((d) => d.id === st.station);
      if (dam) dam.link = st.state;
    }
    draw();
  },
  samples(event) { for (const s of event.samples) take(s); draw(); },
  station(event) {
    const dam = dams.find((d) => d.id === event.station.station);
    if (dam) { dam.link = event.station.state; draw(); }
  },
  alarm(event) { if (event.alarm) alarms.set(event.alarm.id, event.alarm); draw(); refreshForecasts(); },
});
draw();
