"""The read-only dashboard for the customer's portal: framed by the listed origins only, with a
read-only token, live."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import free_port
from tests.integration.api_server import ApiServer
from tests.web.conftest import DESK, WEB_SITE, base, post_samples


class Portal:
    """A real web server on another loopback port: the customer's portal, a page with our frame
    (a portal on the server's intranet; Chrome keeps a public page from framing a loopback one)."""

    def __init__(self) -> None:
        self.frame = ""
        portal = self

        class Page(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                frame = f'<iframe title="Barrages" src="{portal.frame}" width="1200" height="800"></iframe>'
                data = f"<!doctype html><title>Portail</title><h1>Portail</h1>{frame}".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def portals() -> Iterator[tuple[Portal, Portal]]:
    listed, other = Portal(), Portal()
    yield listed, other
    listed.close()
    other.close()


@pytest.fixture(scope="module")
def portal_site(
    tmp_path_factory: pytest.TempPathFactory, portals: tuple[Portal, Portal]
) -> Iterator[ApiServer]:
    listed = f'api: {{port: @API_PORT@, embed_origins: ["{portals[0].origin}"]}}'
    server = ApiServer(
        tmp_path_factory.mktemp("portal"), site=WEB_SITE.replace("api: {port: @API_PORT@}", listed)
    )
    server.start(with_station=False)
    yield server
    server.stop()


@pytest.mark.web
def test_the_portal_frames_the_live_read_only_view(
    portal_site: ApiServer, portals: tuple[Portal, Portal], browser: Browser
) -> None:
    context = browser.new_context(**DESK, locale="fr-FR")
    try:
        page = context.new_page()
        portals[0].frame = f"{base(portal_site)}/embed#token={portal_site.tokens['read']}"
        page.goto(portals[0].origin + "/")
        frame = page.frame_locator("iframe")
        level = frame.locator("[data-dam=lauragais] [data-role=level]")
        expect(level).to_be_visible()
        post_samples(portal_site, ("lauragais.level", 13.21, datetime.now(UTC).isoformat()))
        expect(level).to_have_text("13,21")
        expect(frame.locator("a[href^='/']")).to_have_count(0)  # nothing to act with, nowhere to sign in
        expect(frame.get_by_role("button", name="Se déconnecter")).to_have_count(0)
        expect(frame.locator(".live.on")).to_be_visible()
    finally:
        context.close()


@pytest.mark.web
def test_another_site_cannot_frame_it_and_a_token_that_can_act_is_refused(
    portal_site: ApiServer, portals: tuple[Portal, Portal], browser: Browser
) -> None:
    policy = httpx.get(base(portal_site) + "/embed").headers["content-security-policy"]
    assert f"frame-ancestors {portals[0].origin}" in policy
    assert (
        "frame-ancestors 'none'" in httpx.get(base(portal_site) + "/login").headers["content-security-policy"]
    )
    context = browser.new_context(**DESK, locale="fr-FR")
    try:
        page = context.new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "frame-ancestors" in m.text else None)
        portals[1].frame = f"{base(portal_site)}/embed#token={portal_site.tokens['read']}"
        page.goto(portals[1].origin + "/")
        expect(page.locator("h1")).to_have_text("Portail")
        deadline = datetime.now(UTC).timestamp() + 30
        while not blocked and datetime.now(UTC).timestamp() < deadline:
            page.wait_for_timeout(50)
        assert blocked, "Chromium did not refuse the frame"
        expect(page.frame_locator("iframe").locator("[data-dam]")).to_have_count(0)

        operate = context.new_page()
        operate.goto(f"{base(portal_site)}/embed#token={portal_site.tokens['operate']}")
        expect(operate.get_by_role("alert")).to_contain_text("lecture seule")
        expect(operate.locator("[data-dam]")).to_have_count(0)
    finally:
        context.close()


@pytest.mark.web
def test_without_listed_origins_there_is_no_embedded_view(web: ApiServer) -> None:
    assert httpx.get(base(web) + "/embed").status_code == 404


@pytest.mark.web
def test_a_missing_or_unknown_token_says_so_in_the_frame_instead_of_waiting_forever(
    portal_site: ApiServer, portals: tuple[Portal, Portal], browser: Browser
) -> None:
    """The portal's web master sees what to fix, not a frame stuck on "…"."""
    context = browser.new_context(**DESK, locale="fr-FR")
    try:
        page = context.new_page()
        for fragment, says in (("", "dans son adresse : …/embed#token="),
                               ("#token=not-a-token", "inconnu ou révoqué")):  # fmt: skip
            portals[0].frame = f"{base(portal_site)}/embed{fragment}"
            page.goto(portals[0].origin + "/")
            frame = page.frame_locator("iframe")
            expect(frame.get_by_role("alert")).to_contain_text(says)
            expect(frame.locator("[data-dam]")).to_have_count(0)
    finally:
        context.close()
