"""The web pages' screenshots in docs/screenshots (web-*.png), taken from the demo as a user sees it.

    .venv/bin/python -m tests.web.screenshots [docs/screenshots]

Runs ``ecreteur demo --web`` (the simulated flood, on loopback), signs in as the demo operator
in Chromium, lets the flood rise, then photographs every page on a phone and on a desk, by day
and by night.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from core.children import spawn
from tests.conftest import REPO
from tests.web.conftest import DESK, PHONE, chromium

BASE = "http://127.0.0.1:8080"
PAGES = {
    "overview": "/",
    "dam": "/dams/cevennes",
    "alarms": "/alarms",
    "oncall": "/oncall",
    "phone": "/phone",
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        command = [sys.executable, "-m", "core.cli", "demo", "--web", "--data-dir", data, "--speed", "300"]
        demo = spawn(command, cwd=REPO, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(BASE + "/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            demo_account = {"user": "demo", "password": "ecreteur-demo"}
            token = httpx.post(BASE + "/api/v1/auth/login", json=demo_account, timeout=30).json()["token"]
            while time.monotonic() < deadline + 600:  # the middle of the flood: a dam past its HH limit
                alarms = httpx.get(
                    BASE + "/api/v1/alarms", headers={"Authorization": f"Bearer {token}"}
                ).json()
                if any(a["kind"] == "HH" and a["active"] for a in alarms):
                    break
                time.sleep(1)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
                for device, options in (("phone", PHONE), ("desk", DESK)):
                    for theme, scheme in (("day", "light"), ("night", "dark")):
                        context = browser.new_context(**options, locale="fr-FR", color_scheme=scheme)
                        page = context.new_page()
                        page.goto(BASE + "/login")
                        page.fill("#user", "demo")
                        page.fill("#password", "ecreteur-demo")
                        page.click("button[type=submit]")
                        page.wait_for_url(BASE + "/")
                        for name, path in PAGES.items():
                            page.goto(BASE + path)
                            page.wait_for_selector("#loading", state="detached")
                            page.wait_for_timeout(1500)
                            page.screenshot(  # the phone's list is a screenful: its newest messages
                                path=str(out / f"web-{name}-{device}-{theme}.png"), full_page=name != "phone"
                            )
                        context.close()
                browser.close()
        finally:
            demo.terminate()
            demo.wait(timeout=30)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots")
