"""The web pages in a real browser: Debian's chromium driven by Playwright (no browser download),
against a real ``ecreteur server`` process with operator accounts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.conftest import REPO
from tests.integration.api_server import ApiServer

WEB_SITE = """\
site: {name: Barrages de l'Aude}
stations:
  - {id: lauragais, name: Ganguise, endpoint: "opc.tcp://127.0.0.1:@STATION_PORT@/ecreteur/lauragais",
      publishing_interval_ms: 200, reconnect_max_delay_s: 1}
tags:
  - {id: lauragais.level, station: lauragais, node: "ns=2;s=Level", unit: m, decimals: 2, range: [0, 20],
      label: {fr: Niveau, en: Level}}
  - {id: lauragais.inflow, station: lauragais, node: "ns=2;s=Inflow", unit: m³/s, decimals: 1,
      label: {fr: Débit entrant, en: Inflow}}
  - {id: lauragais.probe, station: lauragais, node: "ns=2;s=Outflow", unit: m, label: {fr: Sonde IoT}}
alarms:
  - {id: level, tags: lauragais.level, kind: limits,
      limits: {H: {value: 13.5}, HH: {value: 15.0, priority: critical}}}
  - {id: probe, tags: lauragais.probe, kind: limits, limits: {H: {value: 50.0}}}
api: {port: @API_PORT@}
"""
PASSWORD = "correct horse battery"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESK = {"viewport": {"width": 1366, "height": 900}}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Debian's chromium is needed for the web tests: installers/dev.sh test installs it")
    return found


def add_user(api: ApiServer, name: str, role: str) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "core.cli", "user", "add", name, "--role", role, "--config", str(api.config),
         "--data-dir", str(api.data)],
        input=PASSWORD + "\n", capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr


# One per test file, not per run: Playwright's sync API keeps its own asyncio loop running in
# the main thread while it is open, and an asyncio test that pytest-xdist runs after a web file
# in the same worker would find that loop ("Runner.run() cannot be called from a running loop").
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # --no-sandbox: the tests run as root in CI containers, where Chromium's sandbox cannot start
    browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A server with no station (its samples come through the REST API: deterministic) and
    three accounts."""
    server = ApiServer(tmp_path_factory.mktemp("web"), site=WEB_SITE)
    server.start(with_station=False)
    for name, role in (("alice", "operator"), ("victor", "viewer")):
        add_user(server, name, role)
    yield server
    server.stop()


def base(api: ApiServer) -> str:
    return api.url.removesuffix("/api/v1")


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(30_000)
    yield context
    context.close()


def sign_in(page: Page, api: ApiServer, user: str = "alice", then: str = "/") -> None:
    page.goto(base(api) + then)
    page.wait_for_url("**/login**")
    page.fill("#user", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base(api) + then)


def post_samples(api: ApiServer, *samples: tuple[str, float, str]) -> None:
    body = {"samples": [{"tag": tag, "value": value, "ts": ts} for tag, value, ts in samples]}
    answer = httpx.post(f"{api.url}/samples", json=body, headers=api.headers("ingest"), timeout=30)
    assert answer.status_code == 200, answer.text


def axe_script() -> Path:
    cache = Path(os.environ.get("ECRETEUR_NPM_CACHE", Path.home() / ".cache/ecreteur/npm"))
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        pytest.fail(
            f"axe-core is needed for the accessibility tests ({script}): installers/dev.sh test installs it"
        )
    return script


# Prism (Twilio's contract) and the secrets as systemd hands them, shared with the paging tests
from tests.integration.conftest import credentials, prism, twilio  # noqa: E402, F401
