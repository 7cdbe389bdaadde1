"""The paging store's vocabulary: incidents, deliveries, their states, and the store protocol.

The cascade reads and writes its durable state through ``PagingStore`` only; SQLite
(``paging_sqlite``, one server) and Cassandra (``paging_cassandra``, every server of a site)
implement it and pass one contract suite (``tests/integration/test_paging_store.py``);
``paging_shared`` keeps a local SQLite copy in step with Cassandra for redundant servers.

A delivery key begins with its incident's id (``12:page:0:1:alice:sms``), so a store can find a
delivery's incident from its key alone.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from core.model import AlarmAction, AlarmEvent, AlarmStatus, Priority


class IncidentState(enum.StrEnum):
    """Where an incident's escalation stands (the word is what the stores and the API keep)."""

    OPEN = "open"
    ACKED = "acknowledged"
    CLEARED = "cleared"
    EXHAUSTED = "exhausted"


class DeliveryState(enum.StrEnum):
    """One message's fate: in flight, accepted by the provider, confirmed, given up, or not known
    after a crash (never sent again)."""

    SENDING = "sending"
    RETRY = "retry"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class DeliveryKind(enum.StrEnum):
    """What a message says: a page, who acknowledged, or that all is back to normal."""

    PAGE = "page"
    ACK = "ack"
    CLEAR = "clear"


OPEN, ACKED, CLEARED, EXHAUSTED = IncidentState
SENDING, RETRY, SENT, DELIVERED, FAILED, SKIPPED, CANCELLED, UNKNOWN = DeliveryState
DONE_BADLY = {FAILED, SKIPPED}
REACHED = {SENT, DELIVERED, UNKNOWN}


@dataclass(frozen=True, slots=True)
class PagedAlarm:
    """An alarm of an incident: the event that raised it, and whether it is still active."""

    event: AlarmEvent
    active: bool = True

    @property
    def alarm(self) -> str:
        return self.event.alarm


@dataclass(slots=True)
class Incident:
    """Alarms paged together, and how far their escalation has gone."""

    id: int
    policy: str
    state: IncidentState
    opened_at: datetime
    level: int
    cycle: int
    level_at: datetime
    acked_by: str | None = None
    acked_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def code(self) -> str:
        """What the on-call person types back: ``OK 12``."""
        return str(self.id)


@dataclass(slots=True)
class Delivery:
    key: str
    incident: int
    kind: DeliveryKind
    level: int
    cycle: int
    person: str
    channel: str  # a built-in channel's name (email, sms, voice) or a plugin's
    state: DeliveryState
    attempts: int
    detail: str
    created_at: datetime
    updated_at: datetime


def _t(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


# Both backends store an incident and a delivery as one row of these columns, in this order,
# with times as POSIX seconds: one codec for both.
INCIDENT_COLUMNS = "id, policy, state, opened_at, level, cycle, level_at, acked_by, acked_at, closed_at"
DELIVERY_COLUMNS = (
    "key, incident, kind, level, cycle, person, channel, state, attempts, detail, created_at, updated_at"
)


def incident_row(i: Incident) -> tuple[Any, ...]:
    return (i.id, i.policy, i.state.value, _t(i.opened_at), i.level, i.cycle, _t(i.level_at), i.acked_by,
            _t(i.acked_at), _t(i.closed_at))  # fmt: skip


def incident_from_row(row: Sequence[Any]) -> Incident:
    ident, policy, state, opened, level, cycle, level_at, acked_by, acked_at, closed_at = row
    return Incident(int(ident), str(policy), IncidentState(state), datetime.fromtimestamp(opened, UTC),
                    int(level), int(cycle), datetime.fromtimestamp(level_at, UTC), acked_by, _dt(acked_at),
                    _dt(closed_at))  # fmt: skip


def delivery_row(d: Delivery) -> tuple[Any, ...]:
    return (d.key, d.incident, d.kind.value, d.level, d.cycle, d.person, str(d.channel), d.state.value,
            d.attempts, d.detail, d.created_at.timestamp(), d.updated_at.timestamp())  # fmt: skip


def delivery_from_row(row: Sequence[Any]) -> Delivery:
    key, incident, kind, level, cycle, person, channel, state, attempts, detail, created, updated = row
    return Delivery(str(key), int(incident), DeliveryKind(kind), int(level), int(cycle), str(person),
                    str(channel), DeliveryState(state), int(attempts), str(detail),
                    datetime.fromtimestamp(created, UTC),
                    datetime.fromtimestamp(updated, UTC))  # fmt: skip


def event_json(event: AlarmEvent) -> str:
    """An incident's alarm as both backends keep it: the whole event, as JSON."""
    value = None if event.value is None or not math.isfinite(event.value) else event.value
    return json.dumps({
        "alarm": event.alarm, "tag": event.tag, "ts": event.ts.isoformat(), "action": event.action.value,
        "status": event.status.value, "active": event.active, "priority": int(event.priority),
        "value": value, "limit": event.limit, "message_fr": event.message_fr,
        "message_en": event.message_en, "user": event.user, "comment": event.comment,
    })  # fmt: skip


def event_from_json(alarm: str, text: str) -> AlarmEvent:
    """Read an incident's alarm back. Files written before the whole event was kept hold only its
    tag, priority, messages, value and time (the raise): those are read as that raise."""
    record = json.loads(text)
    return AlarmEvent(
        alarm=str(record.get("alarm", alarm)), tag=str(record["tag"]),
        ts=datetime.fromisoformat(record["ts"]),
        action=AlarmAction(record.get("action", AlarmAction.RAISED)),
        status=AlarmStatus(record.get("status", AlarmStatus.UNACK.value)),
        active=bool(record.get("active", True)), priority=Priority(int(record["priority"])),
        value=record.get("value"), limit=record.get("limit"), message_fr=str(record.get("message_fr", "")),
        message_en=str(record.get("message_en", "")), user=str(record.get("user", "")),
        comment=str(record.get("comment", "")),
    )  # fmt: skip


def incident_of(key: str) -> int:
    """The incident a delivery key belongs to (keys begin with ``<incident>:``)."""
    return int(key.split(":", 1)[0])


class PagingStore(Protocol):
    """The cascade's durable state. Calls are synchronous and few (one per page or decision)."""

    def open(self) -> None: ...
    def close(self) -> None: ...
    def open_incident(self, policy: str, at: datetime) -> Incident: ...
    def save(self, incident: Incident) -> None: ...
    def incident(self, incident_id: int) -> Incident | None: ...
    def incidents(self, *states: IncidentState) -> list[Incident]: ...
    def recent(self, limit: int = 100) -> list[Incident]: ...
    def add_alarm(self, incident: int, event: AlarmEvent) -> None: ...
    def set_alarm_active(self, incident: int, alarm: str, active: bool) -> None: ...
    def alarms(self, incident: int) -> list[PagedAlarm]: ...
    def incidents_of(self, alarm: str, *states: IncidentState) -> list[Incident]: ...
    def claim(self, delivery: Delivery) -> bool: ...
    def update(self, delivery: Delivery) -> None: ...
    def delivery(self, key: str) -> Delivery | None: ...
    def deliveries(self, incident: int | None = None, *states: DeliveryState) -> list[Delivery]: ...
    def attempt(self, key: str, at: datetime, outcome: str, detail: str) -> None: ...
    def attempts(self, key: str | None = None) -> list[tuple[str, datetime, str, str]]: ...
    def first_time(self, token: str, at: datetime) -> bool: ...
    def acknowledge(self, incident: Incident, by: str, at: datetime) -> None:
        """Mark ``incident`` acknowledged (a follower's way: the leader tells the people paged)."""

    async def reserve(self, delivery: Delivery) -> bool:
        """Just before the provider is called: may this server send ``delivery``?"""

    async def current(self, incident_id: int) -> Incident | None:
        """The incident as the whole site knows it now (another server may have taken it),
        read just before a page leaves; this server's copy when nothing better can be read."""

    async def settled(self) -> None:
        """Return once what this server decided (an acknowledgement) is where every server of
        the site reads it, or soon if that cannot be (the shared record is away)."""
