"""The web pages: overview, alarms and on-call, for phones and desks, served with their assets.

No ``from __future__ import annotations`` (FastAPI reads annotations at run time).

Each page is a small HTML shell (no inline script: the Content-Security-Policy forbids it)
that loads its module from ``/static``; the scripts read the REST API and the event stream
with the browser's session cookie (``core.api.cookies``). Every asset ships in the package: a
control-room network reaches no CDN. A page asked for without a session answers with the
sign-in page's address, and comes back after sign-in.
"""

import html
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles

from core.clock import Clock
from core.config.schema import Site
from core.storage.tokens import Token

STATIC = Path(__file__).with_name("static")
SWAGGER = Path(str(resources.files("fastapi_offline") / "static"))  # Swagger UI's own files
API_DOCS = "/api/v1/docs"
PAGES = {"/": "overview", "/alarms": "alarms", "/oncall": "oncall"}


def language(request: Request, default: str) -> str:
    """The browser's preferred language among French and English, else the site's."""
    for part in request.headers.get("accept-language", "").lower().split(","):
        code = part.strip()[:2]
        if code in ("fr", "en"):
            return code
    return default


def shell(page: str, site: Site, lang: str, clock: Clock, embed: bool = False, phone: bool = False) -> str:
    """A page's HTML: the header and main landmarks; its module draws the rest.

    The page carries the site's "now" and its speed: the pages run on the server's clock (a
    time-lapse's in the demo), not on the browser's."""
    name = html.escape(site.name)
    embedded = ' data-embed="1"' if embed else ""
    embedded += f' data-now="{int(clock.now().timestamp() * 1000)}" data-speed="{clock.speed:g}"'
    embedded += ' data-phone="1"' if phone else ""  # the demo's simulated phone has a page
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{name}</title>
<link rel="stylesheet" href="/static/web.css">
<link rel="icon" href="/static/icon.svg" type="image/svg+xml">
<script type="module" src="/static/{page}.js"></script>
</head>
<body data-page="{page}" data-site="{name}" data-tz="{html.escape(site.timezone)}"{embedded}>
<a class="skip" href="#main">Aller au contenu / Skip to content</a>
<header id="bar"></header>
<main id="main" tabindex="-1"><p class="muted" id="loading">…</p></main>
</body>
</html>
"""


def add_web_pages(
    app: FastAPI,
    site: Site,
    authenticate: Callable[[Request, HTTPAuthorizationCredentials | None], Token],
    links: bool,
    embed_origins: list[str],
    clock: Clock,
    phone: bool = False,
) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def signed_in(request: Request) -> bool:
        try:
            authenticate(request, None)
        except HTTPException:
            return False
        return True

    def html_page(name: str, request: Request) -> Response:
        return HTMLResponse(shell(name, site, language(request, site.language), clock, phone=phone))

    def page(name: str) -> Callable[[Request], Response]:
        def serve(request: Request) -> Response:
            if not signed_in(request):
                return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
            return html_page(name, request)

        return serve

    for path, name in PAGES.items():
        app.add_api_route(path, page(name), methods=["GET"], include_in_schema=False)
    if phone:  # the demo's simulated phone
        app.add_api_route("/phone", page("phone"), methods=["GET"], include_in_schema=False)

    serve_dam = page("dam")

    async def dam(station: str, request: Request) -> Response:
        return serve_dam(request)

    app.add_api_route("/dams/{station}", dam, methods=["GET"], include_in_schema=False)

    async def login(request: Request) -> Response:
        return html_page("login", request)

    app.add_api_route("/login", login, methods=["GET"], include_in_schema=False)

    async def incident(token: str, request: Request) -> Response:
        """An incident link: no session needed, the token in the address is the credential."""
        return html_page("incident", request)

    if links:
        app.add_api_route("/i/{token}", incident, methods=["GET"], include_in_schema=False)

    app.mount(f"{API_DOCS}-assets", StaticFiles(directory=SWAGGER), name="swagger")

    async def docs(request: Request) -> Response:
        """The API's reference (Swagger UI), from assets in the package: nothing from a CDN."""
        return HTMLResponse(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(site.name)} API</title>
<link rel="stylesheet" href="{API_DOCS}-assets/swagger-ui.css">
<script src="{API_DOCS}-assets/swagger-ui-bundle.js"></script>
<script src="/static/docs.js" defer></script>
</head><body><main><div id="swagger-ui" data-spec="/api/v1/openapi.json"></div></main></body></html>
""")

    app.add_api_route(API_DOCS, docs, methods=["GET"], include_in_schema=False)

    async def embed(request: Request) -> Response:
        """The overview, read-only, for the customer's portal: the portal's page frames
        ``/embed#token=…`` with a token of the ``read`` scope alone (the fragment never reaches
        a server log); only the origins in ``api.embed_origins`` may frame it."""
        return HTMLResponse(shell("overview", site, language(request, site.language), clock, embed=True))

    if embed_origins:
        app.add_api_route("/embed", embed, methods=["GET"], include_in_schema=False)
