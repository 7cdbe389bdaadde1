"""Request and response bodies of the REST API: the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rejected(BaseModel):
    index: int = Field(description="position of the sample in the posted batch")
    error: str = Field(description="what is wrong and how to fix it")


class IngestResult(BaseModel):
    accepted: int
    rejected: list[Rejected]


class Problem(BaseModel):
    detail: str


class StationOut(BaseModel):
    id: str
    name: str
    source: str = Field(description="opcua, mqtt, api or a plugin's")
    endpoint: str | None = Field(description="none for an api station: its tags are posted")
    state: str
    detail: str
    since: datetime


class TagOut(BaseModel):
    id: str
    station: str
    kind: str
    unit: str
    range: tuple[float, float] | None
    decimals: int
    label_fr: str
    label_en: str
    states: dict[str, list[str]] | None = Field(
        None,
        description='discrete tags: the words for 0 and 1 by language, e.g. {"fr": ["fermée", "ouverte"]}',
    )


class SampleOut(BaseModel):
    tag: str
    ts: datetime
    value: float | None = Field(description="null when the value is not valid (bad quality)")
    quality: Literal["good", "uncertain", "bad"]


class BucketOut(BaseModel):
    start: datetime
    min: float
    max: float
    avg: float
    last: float
    count: int


class History(BaseModel):
    tag: str
    agg: Literal["raw", "downsampled"]
    samples: list[SampleOut] = Field(default_factory=list)
    buckets: list[BucketOut] = Field(default_factory=list)


class AlarmOut(BaseModel):
    """One alarm of the read model (``core.alarms.view.AlarmView``)."""

    id: str
    tag: str
    station: str = Field(description="the station's id")
    station_name: str
    kind: str
    priority: Literal["critical", "high", "medium", "low"]
    status: str
    active: bool
    value: float | None = Field(description="the value now")
    raised_value: float | None = Field(description="the value that raised it")
    limit: float | None
    since: datetime | None
    acknowledged_by: str
    acknowledged_at: datetime | None
    shelved_by: str
    shelved_reason: str
    shelved_until: datetime | None
    message_fr: str
    message_en: str


class Reset(_Body):
    user: str = Field(min_length=1, max_length=100)
    comment: str = Field("", max_length=1000)


class Service(_Body):
    """Remove an alarm from service, or return it: an engineer's decision, with its reason."""

    user: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=1000)


class ModeChange(_Body):
    """Enter or leave the mode named in the path (e.g. maintenance, flood)."""

    station: str | None = Field(None, description="a station id; none: the whole site")
    on: bool = Field(strict=True, description="true enters the mode, false leaves it")
    user: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=1000)


class ModeOut(BaseModel):
    mode: str
    station: str | None
    since: datetime
    user: str
    reason: str


class ModeResult(BaseModel):
    changed: list[AlarmOut]
    modes: list[ModeOut]


class AuditOut(BaseModel):
    ts: datetime
    actor: str
    role: str
    origin: str
    command: str
    target: str
    detail: str
    outcome: str


class JournalEntry(BaseModel):
    ts: datetime
    alarm: str
    tag: str
    action: str
    status: str
    active: bool
    priority: Literal["critical", "high", "medium", "low"]
    value: float | None
    limit: float | None
    message_fr: str
    message_en: str
    user: str
    comment: str
    server: str | None = Field(None, description="redundant servers: the server that journaled it first")


class Journal(BaseModel):
    entries: list[JournalEntry]
    offset: int
    more: bool


class Ack(_Body):
    user: str = Field(min_length=1, max_length=100)
    comment: str = Field("", max_length=1000)


class Shelve(_Body):
    user: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=1000)
    duration_min: float = Field(gt=0, le=60 * 24 * 30)


class Unshelve(_Body):
    user: str = Field(min_length=1, max_length=100)
    comment: str = Field("", max_length=1000)


class OperationResult(BaseModel):
    alarm: str
    done: bool
    status: str


class FloodOut(BaseModel):
    start: datetime
    end: datetime
    alarms: int


class Kpis(BaseModel):
    start: datetime
    end: datetime
    raised: int
    per_operator_per_10min: float
    max_per_10min: int
    flood_share: float
    floods: list[FloodOut]
    chattering: list[str]
    stale: list[str]
    top10: list[tuple[str, int]]
    priorities: dict[str, float]


class Health(BaseModel):
    status: Literal["alive"]
    pager: Literal["this server", "another server", "every server", "none"] | None = Field(
        None,
        description="redundant servers (Cassandra): who pages; every server while Cassandra is unreachable",
    )
    leader: str | None = Field(None, description="the lease holder (host:pid:…), as last read")
    historian: Literal["stores", "disk_full", "write_failed"] = Field(
        "stores",
        description="whether samples are being stored; disk_full: posts answer 503 until space returns",
    )


class Ready(BaseModel):
    ready: bool
    stations: dict[str, str]
    historian_writable: bool


class Login(_Body):
    user: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class SessionOut(BaseModel):
    """A signed-in operator's bearer token: send it as ``Authorization: Bearer …``."""

    token: str
    user: str
    role: str
    expires: datetime


class Me(BaseModel):
    name: str
    user: str | None = Field(description="the signed-in operator; none for an API token")
    role: Literal["viewer", "operator", "engineer", "admin"]
    scopes: list[str]


class DamLevel(BaseModel):
    tag: str
    unit: str
    decimals: int
    range: tuple[float, float] | None
    limits: dict[str, float] = Field(description="HHH/HH/H/L/LL limits configured on the level")


class CrestOut(BaseModel):
    """The dam's crest forecast: its flood routed through the reservoir's own curves."""

    ts: datetime = Field(description="the station's time of the forecast")
    peak: float = Field(description="the highest level still to come, from the rain already fallen")
    peak_at: datetime
    low: float = Field(description="the peak's band, from the fit's error on this event")
    high: float
    if_rain_continues: float | None = Field(description="the peak if the rain goes on at its present rate")
    if_rain_continues_at: datetime | None
    still_rising_at_horizon: bool = Field(
        description="the rain-goes-on level still rises where the forecast ends"
    )
    fitted: bool = Field(description="false: the catchment's answer is not learnt yet, the inflow is held")
    phe: float | None = Field(
        None, description="the dam's highest safe level (PHE), from its reservoir config"
    )
    phe_at: datetime | None = Field(None, description="when the PHE is reached from the rain already fallen")
    phe_if_rain_continues_at: datetime | None = Field(None, description="when, if the rain goes on")


class DamOut(BaseModel):
    """A dam as the overview draws it: its level and limits, its tags by role, its forecast."""

    id: str
    name: str
    link: str = Field(description="the station link's state, e.g. connected")
    level: DamLevel | None
    tags: dict[str, str] = Field(description="tag id by role: inflow, outflow, rain, gate…")
    units: dict[str, str] = Field(description="unit by role")
    rate_per_h: float | None = Field(description="the level's trend, units per hour")
    eta_min: float | None = Field(description="minutes to the forecast threshold (e.g. HH)")
    crest: CrestOut | None = Field(None, description="the crest forecast, for a dam with a reservoir model")


class ShiftOut(BaseModel):
    person: str
    start: datetime
    end: datetime
    reason: str = ""


class TeamOut(BaseModel):
    id: str
    name: str
    now: ShiftOut
    next: ShiftOut


class DeliveryOut(BaseModel):
    kind: str = Field(description="page, ack or clear")
    level: int
    person: str
    channel: str
    state: str
    attempts: int
    detail: str
    created_at: datetime
    updated_at: datetime


class DueOut(BaseModel):
    at: datetime = Field(description="when the next level starts")
    level: int | None = Field(description="the next level, from 0; null: the escalation ends then")
    people: list[str] = Field(default_factory=list, description="who that level pages")


class IncidentOut(BaseModel):
    id: int
    policy: str
    state: str
    opened_at: datetime
    level: int = Field(description="the escalation level reached, from 0")
    acked_by: str | None
    acked_at: datetime | None
    closed_at: datetime | None
    alarms: list[str]
    messages_fr: list[str] = Field(default_factory=list, description="each alarm's message as it was paged")
    messages_en: list[str] = Field(default_factory=list)
    deliveries: list[DeliveryOut]
    due: DueOut | None = Field(None, description="an open incident's next step if nobody answers")


class OnCallOut(BaseModel):
    configured: bool = Field(True, description="false when this server has no roster")
    paging: bool = Field(True, description="false when a roster is configured but no escalation pages anyone")
    teams: list[TeamOut]
    incidents: list[IncidentOut] = Field(description="open ones first, then the most recent")
    channels_down: dict[str, datetime] = Field(
        default_factory=dict,
        description="channels skipped after a failure (e.g. sms), until when: pages go by the next channel",
    )
