"""Alarms: the annunciated list, the journal, operator commands, modes, the audit trail, KPIs.

No ``from __future__ import annotations`` (FastAPI reads annotations at run time).

Commands go through the operations surface (``core.site.operations``), which checks the caller's
role and journals who did what; its refusals become 404, 403, 409 or 422 here.
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from core.alarms.kpi import compute_kpis
from core.alarms.view import AlarmView
from core.api import schemas as s
from core.api.auth import API, ERRORS, WITH_BODY, Access, role_of
from core.api.ingest import When
from core.api.shapes import alarm_out, csv_response, entry_out, number, via
from core.model import utcnow
from core.runtime import Runtime
from core.site.commands import (
    Acknowledge,
    RemoveFromService,
    Reset,
    ReturnToService,
    SetMode,
    Shelve,
    Unshelve,
)
from core.site.operations import Actor, Forbidden, Invalid, NotNow, OperationError, UnknownAlarm
from core.storage.tokens import Token


def router(runtime: Runtime, access: Access) -> APIRouter:
    routes = APIRouter()
    need = access.need

    alarm_links = {"links": {
        "acknowledge": {"operationId": "alarm_ack", "parameters": {"alarm_id": "$response.body#/0/id"}},
        "shelve": {"operationId": "alarm_shelve", "parameters": {"alarm_id": "$response.body#/0/id"}},
        "journal": {"operationId": "alarm_journal", "parameters": {"alarm": "$response.body#/0/id"}},
    }}  # fmt: skip

    @routes.get(f"{API}/alarms", response_model=list[s.AlarmOut], responses={**ERRORS, 200: alarm_links},
             summary="Annunciated alarms")  # fmt: skip
    async def alarms(_: Annotated[Token, Depends(need("read"))]) -> Any:
        return [alarm_out(view) for view in runtime.alarms.views()]

    @routes.get(
        f"{API}/alarms/journal",
        operation_id="alarm_journal",
        response_model=s.Journal,
        responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
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
                "server",
            ]
            rows = ([e.ts.isoformat(), e.alarm, e.tag, e.action, e.status.value, e.priority.name.lower(),
                     number(e.value), e.user, e.comment, e.message_fr, e.origin] for e in page)  # fmt: skip
            return csv_response(header, rows)
        return s.Journal(
            entries=[entry_out(e) for e in page], offset=offset, more=len(events) > offset + limit
        )

    # Operator commands take any valid token; the operations surface decides by the role its
    # scopes give (operate: operator, engineer, admin) and records refusals in the audit trail.
    operated = {**WITH_BODY, 404: {"model": s.Problem}, 409: {"model": s.Problem}}

    def actor(token: Token, user: str) -> Actor:
        """Who acts: a signed-in operator in their own name (whatever the body says), or an API
        client with the role its scopes give it, in the name of ``user``."""
        if token.user is not None:
            return Actor(token.user, role_of(token), token.via)
        return Actor(user, role_of(token), f"api token {token.name}")

    def carried(command: Callable[[], AlarmView]) -> s.OperationResult:
        view = command()  # a refusal is answered by refused() below, in the client's language
        return s.OperationResult(alarm=view.id, done=True, status=view.status.value)

    async def taken(command: Callable[[], AlarmView]) -> s.OperationResult:
        """A command that stops paging: answered once every server of the site can read it,
        so that none sends a page after the answer."""
        result = carried(command)
        if runtime.cascade is not None:
            await runtime.cascade.settled()
        return result

    ops = runtime.operations

    @routes.post(f"{API}/alarms/{{alarm_id}}/ack", operation_id="alarm_ack", response_model=s.OperationResult,
              responses=operated)  # fmt: skip
    async def ack(alarm_id: str, body: s.Ack, token: Annotated[Token, Depends(need(None))]) -> Any:
        who = actor(token, body.user)
        return await taken(lambda: ops.carry(who, Acknowledge(alarm_id, via(body.comment, token))))

    @routes.post(f"{API}/alarms/{{alarm_id}}/shelve", operation_id="alarm_shelve",
              response_model=s.OperationResult, responses=operated)  # fmt: skip
    async def shelve(alarm_id: str, body: s.Shelve, token: Annotated[Token, Depends(need(None))]) -> Any:
        who, duration = actor(token, body.user), timedelta(minutes=body.duration_min)
        return await taken(lambda: ops.carry(who, Shelve(alarm_id, via(body.reason, token), duration)))

    @routes.post(f"{API}/alarms/{{alarm_id}}/unshelve", response_model=s.OperationResult, responses=operated)
    async def unshelve(alarm_id: str, body: s.Unshelve, token: Annotated[Token, Depends(need(None))]) -> Any:
        who = actor(token, body.user)
        return carried(lambda: ops.carry(who, Unshelve(alarm_id, via(body.comment, token))))

    @routes.post(f"{API}/alarms/{{alarm_id}}/reset", response_model=s.OperationResult, responses=operated)
    async def reset(alarm_id: str, body: s.Reset, token: Annotated[Token, Depends(need(None))]) -> Any:
        who = actor(token, body.user)
        return carried(lambda: ops.carry(who, Reset(alarm_id, via(body.comment, token))))

    @routes.post(
        f"{API}/alarms/{{alarm_id}}/out-of-service", response_model=s.OperationResult, responses=operated
    )
    async def out_of_service(
        alarm_id: str, body: s.Service, token: Annotated[Token, Depends(need(None))]
    ) -> Any:
        who = actor(token, body.user)
        return await taken(lambda: ops.carry(who, RemoveFromService(alarm_id, via(body.reason, token))))

    @routes.post(
        f"{API}/alarms/{{alarm_id}}/in-service", response_model=s.OperationResult, responses=operated
    )
    async def in_service(alarm_id: str, body: s.Service, token: Annotated[Token, Depends(need(None))]) -> Any:
        who = actor(token, body.user)
        return carried(lambda: ops.carry(who, ReturnToService(alarm_id, via(body.reason, token))))

    def modes_out() -> list[s.ModeOut]:
        return [s.ModeOut(mode=m.mode, station=m.station, since=m.since, user=m.actor, reason=m.reason)
                for m in ops.modes()]  # fmt: skip

    @routes.get(f"{API}/modes", response_model=list[s.ModeOut], responses=ERRORS, summary="Modes in force")
    async def modes(_: Annotated[Token, Depends(need("read"))]) -> Any:
        return modes_out()

    @routes.post(
        f"{API}/modes/{{mode}}", response_model=s.ModeResult, responses=operated, summary="Enter or leave"
    )
    async def change_mode(
        mode: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)],
        body: s.ModeChange,
        token: Annotated[Token, Depends(need(None))],
    ) -> Any:
        changed = ops.carry(
            actor(token, body.user), SetMode(mode, body.station, body.on, via(body.reason, token))
        )
        await runtime.audit.flush()  # answered once the mode is durable: it survives a restart
        return s.ModeResult(changed=[alarm_out(v) for v in changed], modes=modes_out())

    @routes.get(f"{API}/audit", response_model=list[s.AuditOut], responses=ERRORS, summary="Who did what")
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

    @routes.get(f"{API}/alarms/kpis", response_model=s.Kpis, responses=ERRORS)
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

    return routes


REFUSED: dict[type[OperationError], int] = {UnknownAlarm: 404, Forbidden: 403, NotNow: 409, Invalid: 422}


def refused(err: OperationError, language: str) -> tuple[int, str]:
    """An operations surface's refusal as an HTTP answer, said in the client's language."""
    status = next((code for kind, code in REFUSED.items() if isinstance(err, kind)), 409)
    text = err.text(language)
    if isinstance(err, UnknownAlarm):
        text += f"; GET {API}/alarms"
    return status, text
