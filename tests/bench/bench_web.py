"""Web pages' load benchmark (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_web.py [LOADS] [TAGS]

A real `ecreteur server` (no station: samples posted over REST) on a site of 3 dams and TAGS
tags (300), with 6 hours of one-minute history on each dam's level; Debian's Chromium driven by
Playwright on loopback. For LOADS (20) loads of each page, signed in, cache emptied each time:
DOMContentLoaded and the time until the page's live content is drawn (the overview's cards,
the dam's trend, the alarm list), median and max. Baseline in the same run: the sign-in page,
the smallest page the same server serves through the same pipeline.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.integration.api_server import ApiServer  # noqa: E402
from tests.web.conftest import DESK, PASSWORD, add_user, chromium  # noqa: E402

DAMS = ("aude", "orb", "herault")


def site(tags: int) -> str:
    lines = ["site: {name: Web bench}", "stations:"]
    lines += [f'  - {{id: {d}, name: Barrage {d}, endpoint: "opc.tcp://127.0.0.1:@STATION_PORT@/{d}", '
              "reconnect_max_delay_s: 60}" for d in DAMS]  # fmt: skip
    lines.append("tags:")
    for d in DAMS:
        lines.append(
            f'  - {{id: {d}.level, station: {d}, node: "ns=2;s=L", unit: m, decimals: 2, range: [0, 20], '
            "label: {fr: Niveau}}"
        )
        lines.append(
            f'  - {{id: {d}.inflow, station: {d}, node: "ns=2;s=I", unit: m³/s, decimals: 1, '
            "label: {fr: Débit}}"
        )
    lines += [
        f'  - {{id: {DAMS[i % 3]}.t{i:04d}, station: {DAMS[i % 3]}, node: "ns=2;s=T{i}", label: {{fr: T{i}}}}}'
        for i in range(tags)
    ]
    lines += ["alarms:", *(f"  - {{id: l_{d}, tags: {d}.level, kind: limits, limits: {{H: {{value: 13.5}}}}}}"
                           for d in DAMS)]  # fmt: skip
    lines.append("api: {port: @API_PORT@, max_batch: 100000, max_body_bytes: 50000000}")
    return "\n".join(lines) + "\n"


def timed(page: object, url: str, ready: str) -> tuple[float, float]:
    page.goto(url, wait_until="domcontentloaded")  # type: ignore[attr-defined]
    page.wait_for_selector(ready)  # type: ignore[attr-defined]
    return page.evaluate(  # type: ignore[attr-defined, no-any-return]
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return [n.domContentLoadedEventEnd, performance.now()]; }"
    )


def main(loads: int, tags: int) -> None:
    with tempfile.TemporaryDirectory() as root:
        api = ApiServer(Path(root), site=site(tags))
        api.start(with_station=False)
        try:
            add_user(api, "alice", "operator")
            start = datetime.now(UTC) - timedelta(hours=6)
            samples = [{"tag": f"{d}.level", "ts": (start + timedelta(minutes=m)).isoformat(), "value": 10 + m / 100}
                       for d in DAMS for m in range(360)]  # fmt: skip
            httpx.post(
                f"{api.url}/samples", json={"samples": samples}, headers=api.headers("ingest"), timeout=60
            )
            base = api.url.removesuffix("/api/v1")
            pages = {"login (baseline)": ("/login", "#user"), "overview": ("/", "[data-dam]"),
                     "dam": ("/dams/aude", "#trend .chart polyline"), "alarms": ("/alarms", "#alarms li")}  # fmt: skip
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
                context = browser.new_context(**DESK)
                page = context.new_page()
                page.goto(base + "/login")
                page.fill("#user", "alice")
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(base + "/")
                session = context.new_cdp_session(page)
                results: dict[str, tuple[list[float], list[float]]] = {}
                for name, (path, ready) in pages.items():
                    dcl, drawn = [], []
                    for _ in range(loads + 2):
                        session.send("Network.clearBrowserCache")
                        a, b = timed(page, base + path, ready)
                        dcl.append(a)
                        drawn.append(b)
                    results[name] = (dcl[2:], drawn[2:])  # two warm-up loads
                browser.close()
        finally:
            api.stop()
    baseline = statistics.median(results["login (baseline)"][0])
    for name, (dcl, drawn) in results.items():
        print(f"{name:18} DOMContentLoaded median {statistics.median(dcl):6.1f} ms, max {max(dcl):6.1f} ms; "
              f"drawn median {statistics.median(drawn):6.1f} ms, max {max(drawn):6.1f} ms; "
              f"DOMContentLoaded / baseline {statistics.median(dcl) / baseline:.2f}")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20, int(sys.argv[2]) if len(sys.argv) > 2 else 300)
