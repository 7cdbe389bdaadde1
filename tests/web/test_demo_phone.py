"""`ecreteur demo --web` for a newcomer: the demo pages its on-call roster into its own
mailbox, and the "Téléphone (démo)" page shows each message as the phone paged would, its
incident link one tap away — no Twilio account, no mail server."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from core.children import spawn
from core.cli.common import DEMO_PASSWORD, DEMO_USER
from core.sim.demo import DEMO_WEB
from tests.conftest import DEMO_PORTS_TIMEOUT, REPO
from tests.web.conftest import PHONE


def _until(condition: object, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _answers() -> bool:
    try:
        return httpx.get(DEMO_WEB + "login", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.web
@pytest.mark.slow
@DEMO_PORTS_TIMEOUT
@pytest.mark.usefixtures("demo_ports")
def test_the_demo_phone_shows_each_page_and_its_link_opens_the_incident(
    tmp_path: Path, browser: Browser
) -> None:
    command = [
        sys.executable,
        "-m",
        "core.cli",
        "demo",
        "--web",
        "--speed",
        "600",
        "--data-dir",
        str(tmp_path),
    ]
    demo = spawn(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(30_000)
    try:
        _until(_answers, "the demo's pages")
        page = context.new_page()
        page.goto(DEMO_WEB + "phone")
        page.wait_for_url("**/login**")
        page.fill("#user", DEMO_USER)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(DEMO_WEB + "phone")
        expect(page.get_by_role("link", name="Téléphone (démo)")).to_have_attribute("aria-current", "page")
        _until(lambda: any((tmp_path / "demo-mail").glob("*.eml")), "the flood's first page")
        bubble = page.locator("#phone .bubble").first
        expect(bubble).to_contain_text("Barrage", timeout=60_000)
        open_it = bubble.get_by_role("link", name="Ouvrir l'incident")
        expect(open_it).to_have_attribute("href", re.compile(r"^http://127\.0\.0\.1:8080/i/"))
        open_it.click()
        expect(page.locator("h1")).to_contain_text("Incident")
        expect(page.get_by_role("button", name=re.compile("J'acquitte"))).to_be_visible()
    finally:
        context.close()
        demo.terminate()
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
