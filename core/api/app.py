"""The REST API (FastAPI): ingestion, consultation, alarm operations, health and metrics.

No ``from __future__ import annotations`` here: FastAPI reads the dependencies from the
annotations at run time, and they refer to closures.

The web framework is imported under ``core/api`` only (this module, the pages in ``web.py``,
``site.py`` and ``links.py``, the webhooks); the ASGI layers live in ``middleware.py`` and
``metrics.py``. Handlers are thin: they validate, call the
runtime (historian, alarm engine) and shape the answer. Every endpoint but ``/health`` needs a
bearer token with the right scope: 401 when the token is missing or unknown, 403 when it lacks
the scope.
"""

import asyncio
import contextlib
import csv
import io
import json
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import (
    ValidationError,
)

from core.alarms.kpi import compute_kpis
from core.alarms.view import AlarmView
from core.api import schemas as s
from core.api.cookies import (
    SESSION_COOKIE,
    SecurityHeaders,
    close_browser_session,
    cross_site,
    csrf_refusal,
    open_browser_session,
    page_policy,
)
from core.api.ingest import INGEST_SCHEMA, When, explain, posted_items, validated, why_refused
from core.api.links import add_link_routes
from core.api.metrics import Measure, Metrics, prometheus_text
from core.api.middleware import BodyLimit, Stopping
from core.api.site import add_site_routes
from core.api.throttle import LoginThrottle
from core.api.web import add_web_pages
from core.api.webhooks import add_twilio_webhooks
from core.model import AlarmEvent, ConnectionState, Quality, Sample, utcnow
from core.notify.links import IncidentLinks
from core.operations import Actor, Forbidden, Invalid, NotNow, Role, UnknownAlarm
from core.runtime import Runtime
from core.storage.audit import AuditEntry
from core.storage.tokens import ROLE_SCOPES, Token, TokenStore
from core.storage.users import UserStore
from core.stream import EventStream, Filter, Subscriber, alarm_json, sample_json, station_json

API = "/api/v1"
BEARER_PROTOCOL = "ecreteur.bearer"  # a browser's bearer token rides in Sec-WebSocket-Protocol
_QUALITY = {"good": Quality.GOOD, "uncertain": Quality.UNCERTAIN, "bad": Quality.BAD}
_TOKEN_CACHE_S = 5.0
_TOKEN_CACHE = 1024  # valid bearers kept verified

Scope = Literal["read", "ingest", "operate", "engineer", "admin"]


def create_app(
    runtime: Runtime, tokens: TokenStore, users: UserStore | None = None, links: IncidentLinks | None = None
) -> FastAPI:
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
    bearer = HTTPBearer(auto_error=False, description="a token from `ecreteur token create`")
    cache: dict[str, tuple[float, Token | None]] = {}
    tags = {tag.id: tag for tag in config.tags}

    generation = [tokens.generation()]

    def resolve(secret: str) -> Token | None:
        """A valid token for ``secret``. Only valid tokens are cached, at most _TOKEN_CACHE
        of them, and the cache is emptied as soon as the token store changes (a revocation, a
        disabled account, from the CLI too): a revoked token stops working at once."""
        now, current = time.monotonic(), tokens.generation()
        if current != generation[0]:
            cache.clear()
            generation[0] = current
        hit = cache.get(secret)
        if hit is not None and now - hit[0] <= _TOKEN_CACHE_S:
            return hit[1]
        token = tokens.verify(secret)
        if token is None:
            cache.pop(secret, None)
            return None
        while len(cache) >= _TOKEN_CACHE:
            cache.pop(next(iter(cache)))
        cache[secret] = (now, token)
        return token

    app.state.token_cache = cache

    def need(scope: Scope | None) -> Callable[..., Awaitable[Token]]:
        """A valid token with ``scope`` (None: any valid token, its role decides further)."""

        async def check(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> Token:
            token = authenticate(request, credentials)
            if scope is not None and not token.allows(scope):
                raise HTTPException(403, f"this token lacks the {scope!r} scope")
            return token

        return check

    def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Token:
        """The bearer of a header, else a browser's session cookie (with the CSRF rule)."""
        if credentials is not None:
            token = resolve(credentials.credentials)
            if token is None:
                raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
            return token
        cookie = request.cookies.get(SESSION_COOKIE)
        token = resolve(cookie) if cookie else None
        if token is None:
            raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        refusal = csrf_refusal(request.method, request.headers, request.cookies, tls)
        if refusal is not None:
            raise HTTPException(403, refusal)
        return replace(token, via="web")

    errors: dict[int | str, dict[str, Any]] = {
        401: {"model": s.Problem, "description": "missing or unknown token"},
        403: {"model": s.Problem, "description": "the token lacks the scope"},
        422: {"model": s.Problem, "description": "a parameter or the body is not valid; `detail` says which"},
    }
    with_body = {**errors, 400: {"model": s.Problem, "description": "the body is not JSON"}}

    public = (f"{API}/health", f"{API}/auth/login", f"{API}/twilio/")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        """One error shape for the whole API: ``{"detail": "where: what"}``. A request without a
        valid token hears 401 first, whatever its body: nothing is said to a stranger about it."""
        if request.url.path.startswith(API) and not request.url.path.startswith(public):
            secret = bearer_secret(request.headers.get("authorization", ""))
            secret = secret or request.cookies.get(SESSION_COOKIE, "")
            if not secret or resolve(secret) is None:
                detail = "a bearer token is required" if not secret else "unknown or revoked token"
                return JSONResponse(
                    {"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
        parts = []
        for e in err.errors():
            where = ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path"))
            parts.append(f"{where}: {e['msg']}" if where else str(e["msg"]))
        return JSONResponse({"detail": "; ".join(parts)}, status_code=422)

    # -- the live event stream ----------------------------------------------------------

    def station_of(tag_id: str) -> str | None:
        tag = config.tag(tag_id)
        return tag.station if tag else None

    def picture(wanted: Filter) -> dict[str, Any]:
        alarms = [alarm_json(v) for v in runtime.alarms.views() if wanted.keeps_station(v.station)]
        states = [station_json(st) for sid, st in runtime.stations.items() if wanted.keeps_station(sid)]
        latest = [
            sample_json(x)
            for tag, x in runtime.latest.items()
            if wanted.keeps_kind("samples") and wanted.keeps_tag(tag, station_of(tag))
        ]
        return {"alarms": alarms, "stations": states, "latest": latest}

    stream = EventStream(runtime.bus, runtime.alarms, station_of, picture)
    app.state.stream = stream

    @app.websocket(f"{API}/events")
    async def events(
        websocket: WebSocket,
        epoch: str | None = None,
        since: int | None = None,
        stations: str = "",
        tags: str = "",
        kinds: str = "",
        access_token: str | None = None,
    ) -> None:
        """Sample batches, station states and alarm transitions, numbered (see core.stream).

        The bearer token comes in the Authorization header; a browser, which cannot set it,
        offers the subprotocols ``ecreteur.bearer`` and the token (or signs in: its session
        cookie is taken from our own pages only). ``access_token`` is accepted too, but an
        address ends up in logs. Resume with ``epoch`` and ``since``.
        """
        secret = bearer_secret(websocket.headers.get("authorization", "")) or access_token
        offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
        subprotocol = BEARER_PROTOCOL if BEARER_PROTOCOL in offered else None
        if secret is None and subprotocol is not None:  # a browser's bearer, kept out of the address
            secret = next((p for p in offered if p and p != BEARER_PROTOCOL), None)
        if secret is None and cross_site(websocket.headers, tls) is None:
            secret = websocket.cookies.get(SESSION_COOKIE)  # a page of ours, not another site's
        token = resolve(secret) if secret else None
        if token is None or not token.allows("read"):
            await websocket.close(code=4401 if token is None else 4403)
            return
        await websocket.accept(subprotocol=subprotocol)
        wanted = Filter(*(frozenset(filter(None, text.split(","))) for text in (stations, tags, kinds)))
        subscriber, first = stream.subscribe(wanted, epoch, since)
        try:
            for message in first:
                await websocket.send_text(json.dumps(message))
            reader = asyncio.create_task(_drain(websocket))
            pump = asyncio.create_task(_pump(websocket, subscriber, stream))
            await asyncio.wait({reader, pump}, return_when=asyncio.FIRST_COMPLETED)
            for task in (reader, pump):
                task.cancel()
            await asyncio.gather(reader, pump, return_exceptions=True)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            stream.unsubscribe(subscriber)

    # -- operators' sessions -------------------------------------------------------------

    throttle = LoginThrottle()
    session_hours = 12.0  # a control-room shift

    @app.post(
        f"{API}/auth/login",
        response_model=s.SessionOut,
        responses={
            400: {"model": s.Problem},
            401: {"model": s.Problem},
            429: {"model": s.Problem},
            422: {"model": s.Problem},
        },
        summary="Sign in with an operator account (ecreteur user add)",
    )
    async def login(body: s.Login, request: Request) -> Any:
        secret, account, expires = await sign_in(body, request, "sign in")
        return s.SessionOut(token=secret, user=account.name, role=account.role, expires=expires)

    async def sign_in(body: s.Login, request: Request, command: str) -> tuple[str, Any, datetime]:
        """Check a name and password (throttled, audited) and open a session."""
        address = f"ip:{request.client.host if request.client else '?'}"
        wait = throttle.wait(f"user:{body.user}", address)
        if wait > 0:
            raise HTTPException(429, f"too many failed sign-ins: retry in {wait:.0f} s",
                                headers={"Retry-After": str(math.ceil(wait))})  # fmt: skip
        account = await asyncio.to_thread(users.verify, body.user, body.password) if users else None
        outcome = "done" if account else "refused: wrong name or password"
        runtime.audit.record(AuditEntry(utcnow(), body.user, account.role if account else "-", address,
                                        command, body.user, "", outcome))  # fmt: skip
        if account is None:
            throttle.failed(f"user:{body.user}", address)
            raise HTTPException(401, "wrong user name or password, or the account is disabled")
        throttle.succeeded(f"user:{body.user}")
        secret, expires = tokens.open_session(account.name, account.role, timedelta(hours=session_hours))
        return secret, account, expires

    @app.post(
        f"{API}/auth/session",
        response_model=s.Me,
        responses={400: {"model": s.Problem}, 401: {"model": s.Problem}, 403: {"model": s.Problem},
                   429: {"model": s.Problem}, 422: {"model": s.Problem}},
        summary="Sign a browser in: the session is an HttpOnly cookie, with a CSRF cookie",
    )  # fmt: skip
    async def browser_login(body: s.Login, request: Request) -> Any:
        where = cross_site(request.headers, tls)
        if where is not None:  # a sign-in forged by another site would sign the victim in as someone else
            raise HTTPException(403, f"{where} cannot sign in")
        secret, account, expires = await sign_in(body, request, "sign in (web)")
        response = JSONResponse(s.Me(name=f"session {account.name}", user=account.name, role=account.role,
                                     scopes=sorted(ROLE_SCOPES[account.role])).model_dump())  # fmt: skip
        open_browser_session(response, secret, expires, tls)
        return response

    @app.post(f"{API}/auth/logout", status_code=204, responses=errors, summary="End this session")
    async def logout(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        token: Annotated[Token, Depends(need(None))],
    ) -> Response:
        secret = credentials.credentials if credentials is not None else request.cookies.get(SESSION_COOKIE)
        if token.user is not None and secret:
            tokens.close_session(secret)
            cache.pop(secret, None)
        response = Response(status_code=204)
        if credentials is None:  # a browser: its cookies go too
            close_browser_session(response, tls)
        return response

    @app.get(f"{API}/auth/me", response_model=s.Me, responses=errors, summary="Who this bearer is")
    async def me(token: Annotated[Token, Depends(need(None))]) -> Any:
        return s.Me(name=token.name, user=token.user, role=role_of(token).word, scopes=sorted(token.scopes))

    # -- ingestion ------------------------------------------------------------------------

    @app.post(
        f"{API}/samples",
        response_model=s.IngestResult,
        responses={
            **errors,
            413: {"model": s.Problem},
            415: {"model": s.Problem, "description": "the body is not sent as application/json"},
            422: {
                "model": s.IngestResult | s.Problem,
                "description": "no sample accepted, or a malformed body",
            },
        },
        summary="Store a batch of samples; answered once the accepted ones are durable",
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": INGEST_SCHEMA}}}
        },
    )
    async def post_samples(request: Request, _: Annotated[Token, Depends(need("ingest"))]) -> Any:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise HTTPException(
                415, f"send the samples as application/json, not {kind[:60] or 'no content type'}"
            )
        items = posted_items(await request.body())
        if len(items) > config.api.max_batch:
            raise HTTPException(
                413, f"{len(items)} samples in one batch; the limit is {config.api.max_batch}"
            )
        now = runtime.clock.now()  # a time-lapse's in the demo, as the stations' stamps are
        horizon = now + timedelta(seconds=config.api.max_future_s)
        oldest = now - timedelta(days=config.storage.retention_days)
        accepted: list[Sample] = []
        rejected: list[s.Rejected] = []
        for index, item in enumerate(validated(items)):
            if isinstance(item, ValidationError):
                rejected.append(s.Rejected(index=index, error=explain(item)))
                continue
            sample = item
            problem = why_refused(sample, tags, horizon, oldest)
            if problem:
                rejected.append(s.Rejected(index=index, error=problem))
                continue
            accepted.append(Sample(sample.tag, sample.ts, float(sample.value), _QUALITY[sample.quality]))
        if accepted:
            await runtime.ingest(accepted)
        result = s.IngestResult(accepted=len(accepted), rejected=rejected)
        if rejected and not accepted:
            return JSONResponse(result.model_dump(), status_code=422)
        return result

    # -- consultation ---------------------------------------------------------------------

    @app.get(f"{API}/stations", response_model=list[s.StationOut], responses=errors)
    async def stations(_: Annotated[Token, Depends(need("read"))]) -> Any:
        return [
            s.StationOut(
                id=st.id,
                name=st.name,
                source=st.source,
                endpoint=st.endpoint,
                state=runtime.stations[st.id].state.value,
                detail=runtime.stations[st.id].detail,
                since=runtime.stations[st.id].ts,
            )
            for st in config.stations
        ]

    # OpenAPI links: how a client (and schemathesis's stateful phase) goes from a list to an item
    tag_links = {"links": {
        "latest": {"operationId": "tag_latest", "parameters": {"tag": "$response.body#/0/id"}},
        "history": {"operationId": "tag_history", "parameters": {"tag": "$response.body#/0/id"}},
    }}  # fmt: skip

    @app.get(f"{API}/tags", response_model=list[s.TagOut], responses={**errors, 200: tag_links})
    async def list_tags(_: Annotated[Token, Depends(need("read"))]) -> Any:
        return [
            s.TagOut(
                id=t.id,
                station=t.station,
                kind=t.kind.value,
                unit=t.unit,
                range=t.range,
                decimals=t.decimals,
                label_fr=t.label.fr,
                label_en=t.label.en,
            )
            for t in config.tags
        ]

    def known(tag: str) -> str:
        if tag not in tags:
            raise HTTPException(404, f"unknown tag {tag!r}; GET {API}/tags lists them")
        return tag

    @app.get(
        f"{API}/tags/{{tag}}/latest",
        operation_id="tag_latest",
        response_model=s.SampleOut,
        responses={**errors, 404: {"model": s.Problem}},
    )
    async def latest(tag: str, _: Annotated[Token, Depends(need("read"))]) -> Any:
        sample = runtime.latest.get(known(tag)) or await runtime.historian.latest(tag)
        if sample is None:
            raise HTTPException(404, f"no sample of {tag!r} yet")
        return _sample_out(sample)

    @app.get(
        f"{API}/tags/{{tag}}/history",
        operation_id="tag_history",
        response_model=s.History,
        responses={**errors, 404: {"model": s.Problem}, 200: {"content": {"text/csv": {}}}},
        summary="Raw or downsampled history; CSV when the client accepts text/csv",
    )
    async def history(
        tag: str,
        request: Request,
        _: Annotated[Token, Depends(need("read"))],
        start: Annotated[When | None, Query(alias="from")] = None,
        end: Annotated[When | None, Query(alias="to")] = None,
        max_points: Annotated[int, Query(ge=1, le=100_000)] = 1000,
        agg: Literal["raw", "downsampled"] = "downsampled",
    ) -> Any:
        known(tag)
        end = end or runtime.clock.now()
        start = start or end - timedelta(hours=24)
        csv_wanted = "text/csv" in request.headers.get("accept", "")
        if agg == "raw":
            samples = await runtime.historian.raw(tag, start, end, limit=max_points)
            if csv_wanted:
                rows = ([x.ts.isoformat(), _num(x.value), x.quality.name.lower()] for x in samples)
                return _csv(["ts", "value", "quality"], rows)
            return s.History(tag=tag, agg="raw", samples=[_sample_out(x) for x in samples])
        buckets = await runtime.historian.downsampled(tag, start, end, max_points)
        if csv_wanted:
            table = ([b.start.isoformat(), b.min, b.max, b.avg, b.last, b.count] for b in buckets)
            return _csv(["start", "min", "max", "avg", "last", "count"], table)
        return s.History(
            tag=tag,
            agg="downsampled",
            buckets=[s.BucketOut(start=b.start, min=b.min, max=b.max, avg=b.avg, last=b.last, count=b.count)
                     for b in buckets],
        )  # fmt: skip

    # -- alarms ---------------------------------------------------------------------------

    alarm_links = {"links": {
        "acknowledge": {"operationId": "alarm_ack", "parameters": {"alarm_id": "$response.body#/0/id"}},
        "shelve": {"operationId": "alarm_shelve", "parameters": {"alarm_id": "$response.body#/0/id"}},
        "journal": {"operationId": "alarm_journal", "parameters": {"alarm": "$response.body#/0/id"}},
    }}  # fmt: skip

    @app.get(f"{API}/alarms", response_model=list[s.AlarmOut], responses={**errors, 200: alarm_links},
             summary="Annunciated alarms")  # fmt: skip
    async def alarms(_: Annotated[Token, Depends(need("read"))]) -> Any:
        return [_alarm_out(view) for view in runtime.alarms.views()]

    @app.get(
        f"{API}/alarms/journal",
        operation_id="alarm_journal",
        response_model=s.Journal,
        responses={**errors, 200: {"content": {"text/csv": {}}}},
    )
    async def journal(
        request: Request,
        _: Annotated[Token, Depends(need("read"))],
        start: Annotated[When | None, Query(alias="from")] = None,
        end: Annotated[When | None, Query(alias="to")] = None,
        alarm: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> Any:
        end = end or runtime.clock.now() + timedelta(seconds=1)
        start = start or end - timedelta(days=7)
        events = await runtime.journal.events(start, end, alarm, limit=offset + limit + 1)
        page = events[offset : offset + limit]
        if "text/csv" in request.headers.get("accept", ""):
            header = [
                "ts",
                "alarm",
                "tag",
                "action",
                "status",
                "priority",
                "value",
                "user",
                "comment",
                "message_fr",
            ]
            rows = ([e.ts.isoformat(), e.alarm, e.tag, e.action, e.status.value, e.priority.name.lower(),
                     _num(e.value), e.user, e.comment, e.message_fr] for e in page)  # fmt: skip
            return _csv(header, rows)
        return s.Journal(entries=[_entry(e) for e in page], offset=offset, more=len(events) > offset + limit)

    # Operator commands take any valid token; the operations surface decides by the role its
    # scopes give (operate: operator, engineer, admin) and records refusals in the audit trail.
    operated = {**with_body, 404: {"model": s.Problem}, 409: {"model": s.Problem}}

    def actor(token: Token, user: str) -> Actor:
        """Who acts: a signed-in operator in their own name (whatever the body says), or an API
        client with the role its scopes give it, in the name of ``user``."""
        if token.user is not None:
            return Actor(token.user, role_of(token), token.via)
        return Actor(user, role_of(token), f"api token {token.name}")

    def carried(command: Callable[[], AlarmView]) -> s.OperationResult:
        with refusals():
            view = command()
        return s.OperationResult(alarm=view.id, done=True, status=view.status.value)

    ops = runtime.operations

    @app.post(f"{API}/alarms/{{alarm_id}}/ack", operation_id="alarm_ack", response_model=s.OperationResult,
              responses=operated)  # fmt: skip
    async def ack(alarm_id: str, body: s.Ack, token: Annotated[Token, Depends(need(None))]) -> Any:
        who = actor(token, body.user)
        return carried(lambda: ops.acknowledge(who, alarm_id, _via(body.comment, token)))

    @app.post(f"{API}/alarms/{{alarm_id}}/shelve", operation_id="alarm_shelve",
              response_model=s.OperationResult, responses=operated)  # fmt: skip
    async def shelve(alarm_id: str, body: s.Shelve, token: Annotated[Token, Depends(need(None))]) -> Any:
        who, duration = actor(token, body.user), timedelta(minutes=body.duration_min)
        return carried(lambda: ops.shelve(who, alarm_id, _via(body.reason, token), duration))

    @app.post(f"{API}/alarms/{{alarm_id}}/unshelve", response_model=s.OperationResult, responses=operated)
    async def unshelve(alarm_id: str, body: s.Unshelve, token: Annotated[Token, Depends(need(None))]) -> Any:
        who = actor(token, body.user)
        return carried(lambda: ops.unshelve(who, alarm_id, _via(body.comment, token)))

    @app.post(f"{API}/alarms/{{alarm_id}}/reset", response_model=s.OperationResult, responses=operated)
    async def reset(alarm_id: str, body: s.Reset, token: Annotated[Token, Depends(need(None))]) -> Any:
        who = actor(token, body.user)
        return carried(lambda: ops.reset(who, alarm_id, _via(body.comment, token)))

    @app.post(
        f"{API}/alarms/{{alarm_id}}/out-of-service", response_model=s.OperationResult, responses=operated
    )
    async def out_of_service(
        alarm_id: str, body: s.Service, token: Annotated[Token, Depends(need(None))]
    ) -> Any:
        who = actor(token, body.user)
        return carried(lambda: ops.remove_from_service(who, alarm_id, _via(body.reason, token)))

    @app.post(f"{API}/alarms/{{alarm_id}}/in-service", response_model=s.OperationResult, responses=operated)
    async def in_service(alarm_id: str, body: s.Service, token: Annotated[Token, Depends(need(None))]) -> Any:
        who = actor(token, body.user)
        return carried(lambda: ops.return_to_service(who, alarm_id, _via(body.reason, token)))

    def modes_out() -> list[s.ModeOut]:
        return [s.ModeOut(mode=m.mode, station=m.station, since=m.since, user=m.actor, reason=m.reason)
                for m in ops.modes()]  # fmt: skip

    @app.get(f"{API}/modes", response_model=list[s.ModeOut], responses=errors, summary="Modes in force")
    async def modes(_: Annotated[Token, Depends(need("read"))]) -> Any:
        return modes_out()

    @app.post(
        f"{API}/modes/{{mode}}", response_model=s.ModeResult, responses=operated, summary="Enter or leave"
    )
    async def change_mode(
        mode: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)],
        body: s.ModeChange,
        token: Annotated[Token, Depends(need(None))],
    ) -> Any:
        with refusals():
            changed = ops.set_mode(actor(token, body.user), mode, body.station, body.on,
                                   _via(body.reason, token))  # fmt: skip
        await runtime.audit.flush()  # answered once the mode is durable: it survives a restart
        return s.ModeResult(changed=[_alarm_out(v) for v in changed], modes=modes_out())

    @app.get(f"{API}/audit", response_model=list[s.AuditOut], responses=errors, summary="Who did what")
    async def audit(
        _: Annotated[Token, Depends(need("admin"))],
        start: Annotated[When | None, Query(alias="from")] = None,
        end: Annotated[When | None, Query(alias="to")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> Any:
        end = end or utcnow() + timedelta(seconds=1)
        start = start or end - timedelta(days=7)
        await runtime.audit.flush()  # what was just done is in the answer (the trail is written in batches)
        entries = await asyncio.to_thread(runtime.audit.entries, start, end, limit)
        return [s.AuditOut(ts=e.ts, actor=e.actor, role=e.role, origin=e.origin, command=e.command,
                           target=e.target, detail=e.detail, outcome=e.outcome) for e in entries]  # fmt: skip

    @app.get(f"{API}/alarms/kpis", response_model=s.Kpis, responses=errors)
    async def kpis(
        _: Annotated[Token, Depends(need("read"))],
        hours: Annotated[float, Query(gt=0, le=24 * 366)] = 24.0,
        operators: Annotated[int, Query(ge=1, le=100)] = 1,
    ) -> Any:
        end = runtime.clock.now()
        start = end - timedelta(hours=hours)
        events = await runtime.journal.events(start, end, limit=10_000_000)
        k = compute_kpis(events, (await runtime.journal.load()).values(), start, end, operators)
        return s.Kpis(
            start=k.start, end=k.end, raised=k.raised, per_operator_per_10min=k.per_operator_per_10min,
            max_per_10min=k.max_per_10min, flood_share=k.flood_share,
            floods=[s.FloodOut(start=f.start, end=f.end, alarms=f.alarms) for f in k.floods],
            chattering=k.chattering, stale=k.stale, top10=k.top10, priorities=k.priorities,
        )  # fmt: skip

    # -- operations -----------------------------------------------------------------------

    @app.get(f"{API}/health", response_model=s.Health, response_model_exclude_none=True)
    async def health() -> Any:
        lease = runtime.lease
        if lease is None:
            return s.Health(status="alive")
        if lease.fail_open:
            pager = "every server"
        elif lease.leading():
            pager = "this server"
        else:
            pager = "another server" if lease.leader else "none"
        return s.Health(status="alive", pager=pager, leader=lease.leader)

    @app.get(f"{API}/ready", response_model=s.Ready, responses={**errors, 503: {"model": s.Ready}})
    async def ready(_: Annotated[Token, Depends(need("read"))]) -> Any:
        states = {sid: status.state.value for sid, status in runtime.stations.items()}
        writable = runtime.historian_writable()
        ok = writable and all(st == ConnectionState.CONNECTED.value for st in states.values())
        body = s.Ready(ready=ok, stations=states, historian_writable=writable)
        return body if ok else JSONResponse(body.model_dump(), status_code=503)

    @app.get(
        f"{API}/metrics",
        responses={**errors, 200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
        summary="Prometheus text format",
    )
    async def prometheus(_: Annotated[Token, Depends(need("read"))]) -> Any:
        text = prometheus_text(runtime, metrics) + (
            "# HELP ecreteur_token_cache_entries Valid bearer tokens kept verified (bounded).\n"
            f"# TYPE ecreteur_token_cache_entries gauge\necreteur_token_cache_entries {len(cache)}\n"
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    add_twilio_webhooks(app, runtime)
    add_site_routes(app, runtime, need, errors)
    if links is not None and runtime.cascade is not None:
        add_link_routes(app, runtime, links, tls)
    add_web_pages(app, config.site, authenticate, links is not None and runtime.cascade is not None,
                  config.api.embed_origins, runtime.clock)  # fmt: skip
    return app


def _via(comment: str, token: Token) -> str:
    """Record which API client carried out an operator action, beside the operator's words; a
    signed-in operator's words stand alone (the journal has their name, the audit the session)."""
    if token.user is not None:
        return comment
    return f"{comment} (API: {token.name})" if comment else f"(API: {token.name})"


def _num(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else repr(value)


def _csv(header: list[str], rows: Any) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


def _sample_out(sample: Sample) -> s.SampleOut:
    value = None if math.isnan(sample.value) else sample.value
    quality: Literal["good", "uncertain", "bad"] = sample.quality.name.lower()  # type: ignore[assignment]
    return s.SampleOut(tag=sample.tag, ts=sample.ts, value=value, quality=quality)


def _priority(p: Any) -> Literal["critical", "high", "medium", "low"]:
    name: Literal["critical", "high", "medium", "low"] = p.name.lower()
    return name


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _alarm_out(a: AlarmView) -> s.AlarmOut:
    """The REST shape of an alarm: the same fields the event stream sends (one mapping)."""
    return s.AlarmOut.model_validate(alarm_json(a))


@contextlib.contextmanager
def refusals() -> Iterator[None]:
    """The operations surface's refusals as HTTP answers: 404, 403, 409, 422."""
    try:
        yield
    except UnknownAlarm as err:
        raise HTTPException(404, f"{err}; GET {API}/alarms lists the active ones") from None
    except Forbidden as err:
        raise HTTPException(403, str(err)) from None
    except NotNow as err:
        raise HTTPException(409, str(err)) from None
    except Invalid as err:
        raise HTTPException(422, str(err)) from None


def _listed(text: str) -> frozenset[str]:
    return frozenset(item for item in text.split(",") if item)


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends: it ends when the client goes."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()


async def _pump(websocket: WebSocket, subscriber: Subscriber, stream: EventStream) -> None:
    """Send the client its events; a ping when quiet; close (1013) if it fell too far behind."""
    while True:
        if subscriber.dropped and subscriber.queue.empty():
            await websocket.close(code=1013, reason="too slow: resume from your last seq")
            return
        try:
            text = await asyncio.wait_for(subscriber.queue.get(), 15.0)
        except TimeoutError:
            text = json.dumps({"type": "ping", "seq": stream.seq})
        await websocket.send_text(text)


def role_of(token: Token) -> Role:
    """The role an API token's scopes give it."""
    if token.allows("admin"):
        return Role.ADMIN
    if "engineer" in token.scopes:
        return Role.ENGINEER
    if "operate" in token.scopes:
        return Role.OPERATOR
    return Role.VIEWER


def _entry(e: AlarmEvent) -> s.JournalEntry:
    return s.JournalEntry(
        ts=e.ts, alarm=e.alarm, tag=e.tag, action=e.action, status=e.status.value, active=e.active,
        priority=_priority(e.priority), value=_finite(e.value), limit=e.limit, message_fr=e.message_fr,
        message_en=e.message_en, user=e.user, comment=e.comment,
    )  # fmt: skip


def bearer_secret(header: str) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, None without one."""
    return header[7:] if header.lower().startswith("bearer ") else None
