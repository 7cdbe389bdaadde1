// The demo's simulated phone: each on-call page the demo sent, newest first, with its incident
// link to tap, as the person paged would see it (ecreteur demo --web only).
import { T, api, h, header, main, onNextFrame, stream, when } from "./app.js";

await header("phone");
const here = main();
const list = h("ol", { class: "phone", id: "phone", "aria-live": "polite" });
here.replaceChildren(h("h1", {}, T("phone")), h("p", { class: "muted" }, T("phone_intro")), list);

async function draw() {
  const pages = await api("/demo/phone");
  list.replaceChildren(...(pages.length ? pages.map((page) => h("li", { class: "bubble" },
    h("p", { class: "muted" }, `${when(page.at, true)} · ${T("phone_to")} ${page.to}`),
    h("p", { class: "subject" }, page.subject),
    h("p", { class: "text" }, page.text.replace(page.link || "\u0000", "").trim()),
    page.link ? h("p", {}, h("a", { href: page.link }, T("phone_open"))) : ""))
    : [h("li", { class: "muted" }, T("phone_empty"))]));
}

await draw();
setInterval(draw, 3000);
const redraw = onNextFrame(draw);
stream("alarm", { alarm() { redraw(); } });  // the banner and the live badge, as on every page
