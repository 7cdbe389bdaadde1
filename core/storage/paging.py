"""The paging store's vocabulary: incidents, deliveries, their states, and the store protocol.

The cascade reads and writes its durable state through ``PagingStore`` only; SQLite
(``paging_sqlite``, one server) and Cassandra (``paging_cassandra``, every server of a site)
implement it and pass one contract suite (``tests/integration/test_paging_store.py``);
``paging_shared`` keeps a local SQLite copy in step with Cassandra for redundant servers.

A delivery key begins with its incident's id (``12:page:0:1:alice:sms``), so a store can find a
delivery's incident from its key alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

OPEN, ACKED, CLEARED, EXHAUSTED = "open", "acknowledged", "cleared", "exhausted"
# delivery states: in flight, accepted by the provider, confirmed, given up, or not known after a crash
SENDING, RETRY, SENT, DELIVERED, FAILED, SKIPPED, CANCELLED, UNKNOWN = (
    "sending",
    "retry",
    "sent",
    "delivered",
    "failed",
    "skipped",
    "cancelled",
    "unknown",
)
DONE_BADLY = {FAILED, SKIPPED}
REACHED = {SENT, DELIVERED, UNKNOWN}


@dataclass(slots=True)
class Incident:
    """Alarms paged together, and how far their escalation has gone."""

    id: int
    policy: str
    state: str
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
    kind: str
    level: int
    cycle: int
    person: str
    channel: str
    state: str
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
    return (i.id, i.policy, i.state, _t(i.opened_at), i.level, i.cycle, _t(i.level_at), i.acked_by,
            _t(i.acked_at), _t(i.closed_at))  # fmt: skip


def incident_from_row(row: Sequence[Any]) -> Incident:
    ident, policy, state, opened, level, cycle, level_at, acked_by, acked_at, closed_at = row
    return Incident(int(ident), str(policy), str(state), datetime.fromtimestamp(opened, UTC), int(level),
                    int(cycle), datetime.fromtimestamp(level_at, UTC), acked_by, _dt(acked_at),
                    _dt(closed_at))  # fmt: skip


def delivery_row(d: Delivery) -> tuple[Any, ...]:
    return (d.key, d.incident, d.kind, d.level, d.cycle, d.person, d.channel, d.state, d.attempts,
            d.detail, d.created_at.timestamp(), d.updated_at.timestamp())  # fmt: skip


def delivery_from_row(row: Sequence[Any]) -> Delivery:
    key, incident, kind, level, cycle, person, channel, state, attempts, detail, created, updated = row
    return Delivery(str(key), int(incident), str(kind), int(level), int(cycle), str(person), str(channel),
                    str(state), int(attempts), str(detail), datetime.fromtimestamp(created, UTC),
                    datetime.fromtimestamp(updated, UTC))  # fmt: skip


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
    def incidents(self, *states: str) -> list[Incident]: ...
    def recent(self, limit: int = 100) -> list[Incident]: ...
    def add_alarm(self, incident: int, alarm: str, event: dict[str, object]) -> None: ...
    def set_alarm_active(self, incident: int, alarm: str, active: bool) -> None: ...
    def alarms(self, incident: int) -> list[tuple[str, dict[str, object], bool]]: ...
    def incidents_of(self, alarm: str, *states: str) -> list[Incident]: ...
    def claim(self, delivery: Delivery) -> bool: ...
    def update(self, delivery: Delivery) -> None: ...
    def delivery(self, key: str) -> Delivery | None: ...
    def deliveries(self, incident: int | None = None, *states: str) -> list[Delivery]: ...
    def attempt(self, key: str, at: datetime, outcome: str, detail: str) -> None: ...
    def attempts(self, key: str | None = None) -> list[tuple[str, datetime, str, str]]: ...
    def first_time(self, token: str, at: datetime) -> bool: ...
    def acknowledge(self, incident: Incident, by: str, at: datetime) -> None:
        """Mark ``incident`` acknowledged (a follower's way: the leader tells the people paged)."""

    async def reserve(self, delivery: Delivery) -> bool:
        """Just before the provider is called: may this server send ``delivery``?"""
