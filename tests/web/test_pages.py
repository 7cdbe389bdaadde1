"""The web pages in Chromium against a real server: sign in, live values, acknowledgement seen by
the REST API and by a desktop client, CSRF, and pages that need nothing but the server."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.conftest import wait_until
from tests.integration.api_server import ApiServer
from tests.web.conftest import PASSWORD, base, post_samples, sign_in

PROBE = "probe:lauragais.probe:H"


def now() -> str:
    return datetime.now(UTC).isoformat()


class DesktopClient:
    """A desktop's runtime as a client of the server (``ecreteur hmi --server``), without its
    window, on its own event loop in a thread: the sync browser keeps this thread."""

    def __init__(self, api: ApiServer, directory: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runtime: Any = self.call(self._start(api, directory))

    def call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=120)

    async def _start(self, api: ApiServer, directory: Path) -> Any:
        from core.client.session import sign_in as open_session
        from core.config import load_config
        from core.runtime import Runtime

        session = await open_session(base(api), "alice", PASSWORD)
        runtime = Runtime(
            load_config(api.config), config_path=api.config, data_dir=directory, session=session
        )
        await runtime.start()
        return runtime

    def status(self, alarm: str) -> tuple[str | None, str | None]:
        async def read() -> tuple[str | None, str | None]:
            view = next((v for v in self.runtime.board.views() if v.id == alarm), None)
            return (view.status.value, view.acknowledged_by) if view else (None, None)

        return self.call(read())  # type: ignore[no-any-return]

    def close(self) -> None:
        self.call(self.runtime.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@pytest.fixture
def desktop(web: ApiServer, tmp_path: Path) -> Iterator[DesktopClient]:
    client = DesktopClient(web, tmp_path / "desktop")
    yield client
    client.close()


def served(api: ApiServer, alarm: str) -> dict[str, Any]:
    answer = httpx.get(f"{api.url}/alarms", headers=api.headers("read"), timeout=30)
    return next((a for a in answer.json() if a["id"] == alarm), {})


def raise_probe(api: ApiServer) -> None:
    """The probe's alarm unacknowledged, whatever an earlier test left (the server is shared)."""
    if served(api, PROBE).get("status") not in (None, "normal", "unacknowledged"):
        post_samples(api, ("lauragais.probe", 10.0, now()))
        wait_until(lambda: not served(api, PROBE).get("active"), "the probe back to normal")
    post_samples(api, ("lauragais.probe", 70.0, now()))
    wait_until(lambda: served(api, PROBE).get("status") == "unacknowledged", "the probe's alarm")


@pytest.mark.web
def test_sign_in_see_the_level_live_and_acknowledge_seen_by_the_api_and_a_desktop(
    web: ApiServer, context: BrowserContext, desktop: DesktopClient
) -> None:
    page = context.new_page()
    sign_in(page, web)
    level = page.locator("[data-dam=lauragais] [data-role=level]")
    expect(level).to_be_visible()
    posted = time.monotonic()
    post_samples(web, ("lauragais.level", 12.34, now()))
    expect(level).to_have_text("12,34")  # French decimals: the browser's locale is fr-FR
    print(f"sample to screen: {time.monotonic() - posted:.3f} s")
    post_samples(web, ("lauragais.level", 12.56, now()))
    expect(level).to_have_text("12,56")

    raise_probe(web)  # above H 50: the probe's alarm
    wait_until(lambda: desktop.status(PROBE)[0] == "unacknowledged", "the desktop to annunciate the alarm")
    page.get_by_role("link", name="Alarmes").click()
    row = page.locator(f'[data-alarm="{PROBE}"]')
    expect(row).to_contain_text("non acquittée")
    row.get_by_role("button", name="Acquitter").click()
    row.get_by_label("Commentaire").fill("vu sur le téléphone")
    row.get_by_role("button", name="Confirmer").click()
    expect(row).to_contain_text("acquittée par alice")

    alarm = served(web, PROBE)
    assert (alarm["status"], alarm["acknowledged_by"]) == ("acknowledged", "alice")
    wait_until(
        lambda: desktop.status(PROBE) == ("acknowledged", "alice"), "the desktop to see the acknowledgement"
    )
    journal = httpx.get(f"{web.url}/alarms/journal", params={"alarm": PROBE}, headers=web.headers("read"))
    ack = [e for e in journal.json()["entries"] if e["action"] == "acknowledged"]
    assert [(e["user"], e["comment"]) for e in ack] == [("alice", "vu sur le téléphone")]


@pytest.mark.web
def test_a_page_without_a_session_asks_for_sign_in_and_a_wrong_password_is_refused(
    web: ApiServer, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(base(web) + "/alarms")
    page.wait_for_url("**/login?next=/alarms")
    page.fill("#user", "alice")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    assert context.cookies() == [] or all(c["name"] != "ecr_session" for c in context.cookies())


@pytest.mark.web
def test_after_five_wrong_passwords_the_page_says_when_to_try_again_in_french(
    web: ApiServer, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(base(web) + "/login")
    page.fill("#user", "bruno")
    for attempt in range(6):
        page.fill("#password", f"essai {attempt}")
        page.click("button[type=submit]")
        expected = (
            "Identifiant ou mot de passe incorrect."
            if attempt < 5
            else re.compile(r"^Trop d'essais manqués depuis cet appareil : réessayez dans [0-9]+ s\.$")
        )
        expect(page.get_by_role("alert")).to_have_text(expected)
        if attempt < 5:
            page.evaluate("document.getElementById('signin-error').textContent = ''")


@pytest.mark.web
@pytest.mark.parametrize(
    "next_",
    ["/%5Cevil.example/phish", "/\\evil.example/phish", "%2F%2Fevil.example/phish",
     "https://evil.example/phish", "javascript:alert(1)", "//evil.example/phish"],
)  # fmt: skip
def test_after_sign_in_the_browser_never_leaves_for_another_site(
    web: ApiServer, context: BrowserContext, next_: str
) -> None:
    """/login?next=/%5Cevil.example/phish sent a signed-in user to http://evil.example/phish."""
    page = context.new_page()
    page.goto(base(web) + "/login?next=" + next_)
    page.fill("#user", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base(web) + "/")
    assert page.url == base(web) + "/"


@pytest.mark.web
def test_after_sign_in_the_page_asked_for_opens(web: ApiServer, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(base(web) + "/login?next=%2Falarms%3Fx%3D1")
    page.fill("#user", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base(web) + "/alarms?x=1")


@pytest.mark.web
def test_the_session_cookie_is_httponly_samesite_strict_and_the_pages_forbid_inline_scripts(
    web: ApiServer, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, web)
    session = next(c for c in context.cookies() if c["name"] == "ecr_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("ecr_session") == -1  # no script can read it
    policy = httpx.get(base(web) + "/login").headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    )


@pytest.mark.web
def test_a_cross_site_request_cannot_act_with_the_session(web: ApiServer, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, web)
    raise_probe(web)
    target = f"{web.url}/alarms/{PROBE}/ack"
    seen: list[int] = []

    # Another site's page posts a form to our server in the signed-in browser.
    def evil(route: Any) -> None:
        route.fulfill(status=200, content_type="text/html", body=(
            f'<form id="f" method="post" action="{target}" enctype="text/plain">'
            '<input name=\'{"user":"mallory","comment":"x","pad":"\' value=\'"}\'></form>'
            "<script>document.getElementById('f').submit()</script>"))  # fmt: skip

    page.route("http://evil.example/**", evil)
    page.on("response", lambda r: seen.append(r.status) if r.url == target else None)
    page.goto("http://evil.example/")
    wait_until(lambda: seen, "the forged request's answer")
    assert seen[0] in (401, 403)
    # The same request with the cookie but from another origin, and one without the CSRF header
    forged = context.request.post(target, data={"user": "mallory"}, headers={"Origin": "http://evil.example"})
    assert forged.status == 403, forged.text()
    assert "cannot act" in forged.json()["detail"]
    bare = context.request.post(target, data={"user": "mallory"})
    assert bare.status == 403 and "X-CSRF-Token" in bare.json()["detail"]
    assert served(web, PROBE)["status"] == "unacknowledged"


@pytest.mark.web
@pytest.mark.parametrize("path", ["/", "/alarms", "/oncall"])
def test_the_pages_load_with_nothing_but_the_server(
    web: ApiServer, context: BrowserContext, path: str
) -> None:
    outside: list[str] = []
    errors: list[str] = []
    origin = base(web)

    def only_the_server(route: Any) -> None:
        if route.request.url.startswith(origin) or route.request.url.startswith(origin.replace("http", "ws")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, web, then=path)
    expect(page.locator("#loading")).to_have_count(0)
    expect(page.locator(".live.on")).to_be_visible()  # the event stream is connected
    assert outside == []
    assert errors == []


@pytest.mark.web
def test_a_dam_page_draws_its_synoptic_and_trend_with_limits_a_gap_and_a_csv(
    web: ApiServer, context: BrowserContext
) -> None:
    from datetime import timedelta

    start = datetime.now(UTC) - timedelta(hours=5)
    rows = [
        ("lauragais.level", 12.0 + i / 100, (start + timedelta(minutes=2 * i)).isoformat())
        for i in range(120)
        if not 40 <= i < 60
    ]  # fmt: skip  (40 min with no sample)
    post_samples(web, *rows)
    page = context.new_page()
    sign_in(page, web)
    page.get_by_role("link", name="Ganguise", exact=True).click()
    page.wait_for_url("**/dams/lauragais")
    expect(page.locator(".synoptic")).to_be_visible()
    expect(page.locator("[data-tag='lauragais.level']")).to_contain_text("m")
    chart = page.locator("#trend .chart")
    expect(chart).to_have_attribute("aria-label", re.compile(r"Niveau \(m\)"))
    expect(chart.locator(".limit")).to_have_count(2)  # H and HH
    assert chart.locator("polyline.line").count() >= 2  # the silent 40 minutes break the line
    assert chart.locator("polyline.band").count() >= 2
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0] == "ts,value,quality"
    assert len(text.splitlines()) > 100

    # beside the synoptic: the forecast (no reservoir, no forecast rule: said, not left blank)
    # and the dam's own alarms, a new one arriving live
    expect(page.locator("#forecast")).to_contain_text("Seuil dans")
    post_samples(web, ("lauragais.level", 14.2, datetime.now(UTC).isoformat()))
    raised = page.locator("#dam-alarms li[data-alarm='level:lauragais.level:H']")
    expect(raised).to_contain_text("14,20 m")
    expect(raised).to_contain_text("non acquittée")


@pytest.mark.web
def test_the_api_reference_loads_from_the_server_alone(web: ApiServer, context: BrowserContext) -> None:
    outside: list[str] = []
    errors: list[str] = []
    origin = base(web)

    def only_the_server(route: Any) -> None:
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(origin + "/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Écrêteur API")
    expect(page.get_by_text("/api/v1/samples").first).to_be_visible()
    assert outside == []
    assert errors == []
    assert "unsafe-inline" not in httpx.get(origin + "/api/v1/docs").headers["content-security-policy"]
