"""The REST API (FastAPI): one application wired from one router per resource.

No ``from __future__ import annotations`` here: FastAPI reads the dependencies from the
annotations at run time.

The web framework is imported under ``core/api`` only. Who may call is decided in ``auth.py``;
the routes live beside it, each file one resource: ``sessions.py`` (sign-in), ``samples.py``
(ingestion, stations, tags, history), ``alarms.py`` (the list, the journal, commands, modes,
audit, KPIs), ``events.py`` (the live stream), ``health.py`` (alive, ready, metrics), ``site.py``
and ``links.py`` (what the web pages draw, incident links), ``webhooks.py`` (Twilio) and
``web.py`` (the pages themselves), ``phone.py`` (the demo's simulated phone). The ASGI layers
live in ``middleware.py``, ``metrics.py`` and
``cookies.py``. Handlers are thin: they validate, call the runtime's read model and operations
surface, and shape the answer (``shapes.py``).
"""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from core.api import alarms, events, health, samples, sessions
from core.api import phone as demo_phone
from core.api.auth import API, ERRORS, Access, bearer_secret
from core.api.cookies import SESSION_COOKIE, SecurityHeaders, page_policy
from core.api.links import add_link_routes
from core.api.metrics import Measure, Metrics
from core.api.middleware import BodyLimit, Stopping
from core.api.site import add_site_routes
from core.api.web import add_web_pages, language
from core.api.webhooks import add_twilio_webhooks
from core.notify.links import IncidentLinks
from core.runtime import Runtime
from core.site.operations import OperationError
from core.storage.base import HistorianDown
from core.storage.tokens import TokenStore
from core.storage.users import UserStore
from core.words import say

_RETRY_S = 30  # a full disk is freed by a person: a client retries every half-minute
_PUBLIC = (f"{API}/health", f"{API}/auth/login", f"{API}/twilio/")


def create_app(
    runtime: Runtime,
    tokens: TokenStore,
    users: UserStore | None = None,
    links: IncidentLinks | None = None,
    phone: Path | None = None,
) -> FastAPI:
    """``phone``: the demo's mailbox folder, shown as a simulated phone (``ecreteur demo --web``)."""
    config = runtime.config
    app = FastAPI(
        title="Écrêteur API",
        version="1",
        description="Supervision of flood-attenuation dams: samples, history, alarms.",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # served by core.api.web from packaged assets, under the pages' policy
        redoc_url=None,
    )
    metrics = Metrics()
    app.add_middleware(BodyLimit, limit=config.api.max_body_bytes)
    app.state.stopping = False
    app.add_middleware(Stopping, state=app.state)
    app.add_middleware(Measure, metrics=metrics)
    tls = config.api.tls is not None
    embedders = " ".join(config.api.embed_origins)
    app.add_middleware(
        SecurityHeaders,
        policy=lambda path: page_policy(embedders if path.startswith("/embed") and embedders else "'none'"),
    )
    access = Access(tokens, tls)
    app.state.token_cache = access.cache

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        """One error shape for the whole API: ``{"detail": "where: what"}``. A request without a
        valid token hears 401 first, whatever its body: nothing is said to a stranger about it."""
        if request.url.path.startswith(API) and not request.url.path.startswith(_PUBLIC):
            secret = bearer_secret(request.headers.get("authorization", ""))
            secret = secret or request.cookies.get(SESSION_COOKIE, "")
            if not secret or access.resolve(secret) is None:
                detail = "a bearer token is required" if not secret else "unknown or revoked token"
                return JSONResponse(
                    {"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
        parts = []
        for e in err.errors():
            where = ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path"))
            parts.append(f"{where}: {e['msg']}" if where else str(e["msg"]))
        return JSONResponse({"detail": "; ".join(parts)}, status_code=422)

    @app.exception_handler(OperationError)
    async def not_carried(request: Request, err: OperationError) -> JSONResponse:
        """A command refused by the operations surface: 404, 403, 409 or 422, in the client's language."""
        status, detail = alarms.refused(err, language(request, config.site.language))
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(HistorianDown)
    async def not_stored(request: Request, err: HistorianDown) -> JSONResponse:
        """A full disk is not a server bug: the client hears why, and when to send again."""
        lang = language(request, config.site.language)
        reason = say(f"refusal.{err.reason}", lang)
        detail = say("api.not_stored", lang, reason=reason, retry=_RETRY_S)
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": str(_RETRY_S)})

    stream_routes, app.state.stream = events.router(runtime, access)
    app.include_router(stream_routes)
    app.include_router(sessions.router(runtime, access, users))
    app.include_router(samples.router(runtime, access))
    app.include_router(alarms.router(runtime, access))
    app.include_router(health.router(runtime, access, metrics, app.state.stream))
    add_twilio_webhooks(app, runtime)
    add_site_routes(app, runtime, access.need, ERRORS)
    if links is not None and runtime.cascade is not None:
        add_link_routes(app, runtime, links, tls)
    if phone is not None:
        app.include_router(demo_phone.router(access, phone, runtime.clock))
    add_web_pages(app, config.site, access.authenticate, links is not None and runtime.cascade is not None,
                  config.api.embed_origins, runtime.clock, phone is not None)  # fmt: skip
    return app
