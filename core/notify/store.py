"""The cascade's durable state: incidents, deliveries, their states, and the store's port.

The cascade reads and writes through ``PagingStore`` only; ``core.storage`` implements it:
SQLite (``paging_sqlite``, one server), Cassandra (``paging_cassandra``, every server of a
site) and, for redundant servers, a local SQLite copy kept in step with Cassandra
(``paging_shared``). All pass one contract suite (``tests/integration/test_paging_store.py``).

A delivery key begins with its incident's id (``12:page:0:1:alice:sms``), so a store can find a
delivery's incident from its key alone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.model import AlarmEvent


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


def incident_of(key: str) -> int:
    """The incident a delivery key belongs to (keys begin with ``<incident>:``)."""
    return int(key.split(":", 1)[0])


class PagingStore(Protocol):
    """The cascade's durable state. Calls are synchronous and few (one per page or decision);
    the life cycle and the exchanges with the site's other servers are awaited."""

    @property
    def redundant(self) -> bool:
        """Kept in step with the site's other servers (redundant servers): the cascade then
        follows or leads through ``pull`` and ``taken_elsewhere``."""

    def open(self) -> None: ...
    def close(self) -> None: ...
    async def start(self) -> None:
        """After ``open``: begin exchanging with the other servers (nothing to do alone)."""

    async def stop(self) -> None:
        """Before ``close``: hand over what waits for the other servers."""

    async def pull(self) -> int:
        """Copy what the other servers wrote; how many incidents changed (0 alone)."""

    async def taken_elsewhere(self) -> list[Incident]:
        """Incidents open here that another server has marked acknowledged (none alone)."""

    def metrics(self) -> dict[str, float]:
        """Its figures for ``/metrics`` (``backlog``, ``forward_errors``, ``fail_open_sends``)."""

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
