"""The routes behind an incident link (``core.notify.links``): see the incident, then confirm.

No ``from __future__ import annotations`` (FastAPI reads annotations at run time).

The token in the address is the credential, so these routes need no session; reading does not
use the link, confirming does (once). Every confirmation and every refusal is audited with the
person the link was made for.
"""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from core.api.cookies import cross_site
from core.api.schemas import DueOut
from core.model import utcnow
from core.notify.links import Claim, IncidentLinks, LinkRefused
from core.notify.messages import AlarmLine, facts
from core.notify.phone import Reply
from core.notify.store import Incident
from core.runtime import Runtime
from core.site.oncall import due_of
from core.storage.audit import AuditEntry

API = "/api/v1"
_ACK, _ESCALATE = "acknowledge incident", "escalate incident"  # the audit's words for each use
_TREND = timedelta(hours=3)  # the incident page's small trend


class TrendPoint(BaseModel):
    at: Any
    value: float


class LinkAlarm(BaseModel):
    alarm: str
    station: str
    station_id: str = Field("", description="the dam's id: its page is /dams/{station_id}")
    priority: str
    message_fr: str
    message_en: str
    active: bool
    facts_fr: list[str] = Field(
        default_factory=list, description="the level now, its trend, the crest to come"
    )
    facts_en: list[str] = Field(default_factory=list)
    unit: str = ""
    decimals: int = 2
    limits: dict[str, float] = Field(default_factory=dict, description="the tag's limits by name (H, HH…)")
    trend: list[TrendPoint] = Field(
        default_factory=list, description="the tag's last three hours, a point every three minutes"
    )


class LinkStep(BaseModel):
    """One message of the incident: who was paged, how, and what became of it."""

    at: Any
    person: str
    channel: str
    kind: str = Field(description="page, ack or clear")
    level: int
    state: str


class LinkView(BaseModel):
    """What the person paged sees: their incident, and whether it still needs them."""

    incident: int
    state: str = Field(description="open, acknowledged, cleared or exhausted")
    opened_at: Any
    acked_by: str | None
    acked_at: Any
    person: str
    expires: Any
    alarms: list[LinkAlarm]
    due: DueOut | None = Field(None, description="the next level and when, if nobody answers")
    timeline: list[LinkStep] = Field(
        default_factory=list, description="every message of the incident, oldest first"
    )


class LinkResult(BaseModel):
    done: bool
    message: str


def add_link_routes(app: FastAPI, runtime: Runtime, links: IncidentLinks, tls: bool) -> None:
    cascade = runtime.cascade
    assert cascade is not None
    names = {p.id: p.name for p in cascade.oncall.roster.people}
    zone = ZoneInfo(runtime.config.site.timezone)
    problems: dict[int | str, dict[str, Any]] = {410: {"description": "expired, used or altered"}}

    def audited(request: Request, who: str, outcome: str, target: str = "", command: str = _ACK) -> None:
        address = f"ip:{request.client.host if request.client else '?'}"
        runtime.audit.record(AuditEntry(utcnow(), who, "operator", f"web link {address}",
                                        command, target, "", outcome))  # fmt: skip

    def claim(request: Request, token: str) -> Claim:
        try:
            return links.read(token, utcnow())
        except LinkRefused as refused:
            audited(request, "-", f"refused: {refused}")
            raise HTTPException(410, str(refused)) from None

    def due(incident: Incident) -> DueOut | None:
        found = due_of(incident, cascade.oncall, cascade.policies.get(incident.policy), names)
        return DueOut.model_validate(found, from_attributes=True) if found else None

    async def trend(tag: str, now: datetime) -> list[TrendPoint]:
        """What the person paged needs at a glance: where the value came from, against its limits."""
        buckets = await runtime.historian.downsampled(tag, now - _TREND, now, 60)
        return [TrendPoint(at=b.start, value=b.avg) for b in buckets if b.count and b.avg == b.avg]

    @app.get(f"{API}/links/{{token}}", response_model=LinkView, responses=problems, include_in_schema=False)
    async def show(token: str, request: Request) -> Any:
        found = claim(request, token)
        incident = cascade.store.incident(found.incident)
        if incident is None:
            raise HTTPException(410, "this incident is no longer known")
        alarms = []
        now = runtime.clock.now()
        for paged in cascade.store.alarms(incident.id):
            event = paged.event
            tag = runtime.config.tag(event.tag)
            station = runtime.config.station(tag.station).name if tag else ""
            unit = tag.unit if tag else ""
            line = AlarmLine(event.alarm, station, event.priority, event.message_fr, event.message_en,
                             event.value, unit, runtime.alarms.situation(event.tag))  # fmt: skip
            alarms.append(LinkAlarm(alarm=event.alarm, station=station, station_id=tag.station if tag else "",
                                    priority=event.priority.name.lower(),
                                    active=paged.active, message_fr=event.message_fr,
                                    message_en=event.message_en, facts_fr=facts(line, "fr", zone),
                                    facts_en=facts(line, "en", zone), unit=unit,
                                    decimals=tag.decimals if tag else 2,
                                    limits=runtime.alarms.limits(event.tag) if tag else {},
                                    trend=await trend(event.tag, now) if tag else []))  # fmt: skip
        sent = sorted(cascade.store.deliveries(incident.id), key=lambda d: d.created_at)
        timeline = [LinkStep(at=d.created_at, person=names.get(d.person, d.person), channel=d.channel,
                             kind=d.kind, level=d.level, state=d.state) for d in sent]  # fmt: skip
        return LinkView(incident=incident.id, state=incident.state, opened_at=incident.opened_at,
                        acked_by=incident.acked_by, acked_at=incident.acked_at,
                        person=names.get(found.person, found.person), expires=found.expires,
                        alarms=alarms, timeline=timeline, due=due(incident))  # fmt: skip

    def once(
        request: Request, token: str, key: str, command: str, used: str, said: str
    ) -> tuple[Claim, str, str]:
        """The link's claim for one use (acknowledge, or hand on), refused cross-site or if used
        (``used``: what the audit says then, ``said``: the answer)."""
        where = cross_site(request.headers, tls)
        if where is not None:
            raise HTTPException(403, f"{where} cannot use this link")
        found = claim(request, token)
        who, target = names.get(found.person, found.person), f"incident {found.incident}"
        if not cascade.store.first_time(f"{key}:{found.nonce}", utcnow()):
            audited(request, who, f"refused: {used}", target, command)
            raise HTTPException(410, said)
        return found, who, target

    async def answered(request: Request, reply: Reply, who: str, target: str, command: str) -> LinkResult:
        if reply.acknowledged:
            await cascade.settled()  # in the site's record before the answer: no page after it
        audited(request, who, "done" if reply.acknowledged else f"refused: {reply.text}", target, command)
        return LinkResult(done=reply.acknowledged, message=reply.text)

    @app.post(
        f"{API}/links/{{token}}/ack", response_model=LinkResult, responses=problems, include_in_schema=False
    )
    async def acknowledge(token: str, request: Request) -> Any:
        used, said = "link already used", "this link was already used"
        found, who, target = once(request, token, "link", _ACK, used, said)
        return await answered(request, cascade.phone.acknowledge_by_link(found.incident, found.person), who,
                              target, _ACK)  # fmt: skip

    escalating = f"{API}/links/{{token}}/escalate"

    @app.post(escalating, response_model=LinkResult, responses=problems, include_in_schema=False)
    async def escalate(token: str, request: Request) -> Any:
        """The person paged cannot take it: the next level is paged now (once per link)."""
        used, said = (
            "link already used to page the next level",
            "the next level was already paged from this link",
        )
        found, who, target = once(request, token, "escalate", _ESCALATE, used, said)
        return await answered(request, cascade.phone.escalate_by_link(found.incident, found.person), who,
                              target, _ESCALATE)  # fmt: skip
