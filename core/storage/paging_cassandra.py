"""The paging store in Cassandra: the incidents, deliveries and attempts every server can read.

One keyspace is one site. Writes that two servers could race on are lightweight transactions
(Paxos): an incident id is taken with ``UPDATE … IF next = n``, a delivery is claimed with
``INSERT … IF NOT EXISTS`` before its provider is called (two servers can never send the same
message), a webhook is seen once with ``INSERT … IF NOT EXISTS``, and an acknowledgement from
a follower moves an incident with ``UPDATE … IF state = 'open'``. Everything else is a plain
idempotent upsert. Calls block (a few milliseconds each): callers on an event loop use
``paging_shared``, which keeps a local copy and talks to Cassandra from a worker thread.

Incidents live in one partition clustered by id, newest first: a site opens a few a day, and
reads (``recent``, the open ones) take the newest thousand (``INCIDENT_WINDOW``).
"""

from __future__ import annotations

import asyncio
import enum
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.model import AlarmEvent
from core.notify.store import (
    ACKED,
    OPEN,
    Delivery,
    DeliveryState,
    Incident,
    IncidentState,
    PagedAlarm,
    incident_of,
)
from core.storage.paging import (
    DELIVERY_COLUMNS,
    INCIDENT_COLUMNS,
    delivery_from_row,
    delivery_row,
    event_from_json,
    event_json,
    incident_from_row,
    incident_row,
)

INCIDENT_WINDOW = 1_000  # incidents read back: far more than a site has open at once
_WEBHOOK_TTL_S = 7 * 86_400  # Twilio retries a webhook for hours, never for a week
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS paging_ids (name text PRIMARY KEY, next int)",
    "CREATE TABLE IF NOT EXISTS paging_incidents (site text, id int, policy text, state text, "
    "opened_at double, level int, cycle int, level_at double, acked_by text, acked_at double, "
    "closed_at double, PRIMARY KEY ((site), id)) WITH CLUSTERING ORDER BY (id DESC)",
    "CREATE TABLE IF NOT EXISTS paging_alarms (incident int, alarm text, event text, active boolean, "
    "added bigint, PRIMARY KEY ((incident), alarm))",
    "CREATE TABLE IF NOT EXISTS paging_deliveries (incident int, key text, kind text, level int, "
    "cycle int, person text, channel text, state text, attempts int, detail text, created_at double, "
    "updated_at double, PRIMARY KEY ((incident), key))",
    "CREATE TABLE IF NOT EXISTS paging_attempts (key text, seq timeuuid, ts double, outcome text, "
    "detail text, PRIMARY KEY ((key), seq))",
    # `sid`, not `token`: a reserved word in CQL
    "CREATE TABLE IF NOT EXISTS paging_webhooks (sid text PRIMARY KEY, ts double)",
)
_SITE = "site"  # the incidents' one partition
_INCIDENT, _DELIVERY = INCIDENT_COLUMNS, DELIVERY_COLUMNS


class CassandraPagingStore:
    """``PagingStore`` on a Cassandra session. ``connect()`` returns ``(cluster, session)``."""

    redundant = True  # every server of the site writes and reads these tables directly

    async def start(self) -> None:
        await asyncio.to_thread(self.open)

    async def stop(self) -> None:
        """Every write went to Cassandra when it was made."""

    async def pull(self) -> int:
        return 0  # nothing local to bring in step

    async def taken_elsewhere(self) -> list[Incident]:
        return []  # an acknowledgement anywhere is in these rows already

    def metrics(self) -> dict[str, float]:
        return {}

    def __init__(self, connect: Callable[[], tuple[Any, Any]], timeout_s: float = 5.0) -> None:
        self._connect = connect
        self.timeout_s = timeout_s
        self._cluster: Any = None
        self._session: Any = None

    @property
    def is_open(self) -> bool:
        return self._session is not None

    def open(self) -> None:
        cluster, session = self._connect()
        for statement in _SCHEMA:
            session.execute(statement, timeout=max(self.timeout_s, 30.0))
        self._cluster, self._session = cluster, session

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster = self._session = None

    def _run(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        if self._session is None:
            raise RuntimeError("the paging store is not open")
        # the driver quotes a str but writes an enum (a state, a channel's name) bare: its word
        words = tuple(p.value if isinstance(p, enum.Enum) else p for p in params)
        return self._session.execute(query, words, timeout=self.timeout_s)

    # incidents ----------------------------------------------------------------------------
    def open_incident(self, policy: str, at: datetime) -> Incident:
        incident = Incident(self._next_id(), policy, OPEN, at, 0, 0, at)
        self.put_incident(incident)
        return incident

    def _next_id(self) -> int:
        """The next incident id, taken with a compare-and-set that two servers cannot both win."""
        while True:
            row = self._run("SELECT next FROM paging_ids WHERE name = 'incident'").one()
            if row is None:
                taken = self._run("INSERT INTO paging_ids (name, next) VALUES ('incident', 2) IF NOT EXISTS")
                if taken.was_applied:
                    return 1
                continue
            taken = self._run(
                "UPDATE paging_ids SET next = %s WHERE name = 'incident' IF next = %s",
                (row.next + 1, row.next),
            )
            if taken.was_applied:
                return int(row.next)

    def reserve_ids(self, above: int) -> None:
        """Make later ids start after ``above`` (ids taken by a local copy while Cassandra was away)."""
        while True:
            row = self._run("SELECT next FROM paging_ids WHERE name = 'incident'").one()
            if row is None:
                if self._run("INSERT INTO paging_ids (name, next) VALUES ('incident', %s) IF NOT EXISTS",
                             (above + 1,)).was_applied:  # fmt: skip
                    return
                continue
            if row.next > above:
                return
            if self._run("UPDATE paging_ids SET next = %s WHERE name = 'incident' IF next = %s",
                         (above + 1, row.next)).was_applied:  # fmt: skip
                return

    def put_incident(self, incident: Incident) -> None:
        self._run(
            f"INSERT INTO paging_incidents (site, {_INCIDENT}) VALUES (%s, {', '.join(['%s'] * 10)})",
            (_SITE, *incident_row(incident)),
        )

    save = put_incident

    def acknowledge(self, incident: Incident, by: str, at: datetime) -> None:
        incident.state, incident.acked_by, incident.acked_at = ACKED, by, at
        self.acknowledge_open(incident.id, by, at)

    async def reserve(self, delivery: Delivery) -> bool:
        """``claim`` already decided, with an LWT."""
        return True

    async def current(self, incident_id: int) -> Incident | None:
        return await asyncio.to_thread(self.incident, incident_id)

    async def settled(self) -> None:
        """Every write went to Cassandra when it was made."""

    def acknowledge_open(self, incident_id: int, by: str, at: datetime) -> bool:
        """Move an open incident to acknowledged; False if it was no longer open."""
        return bool(
            self._run(
                "UPDATE paging_incidents SET state = 'acknowledged', acked_by = %s, acked_at = %s "
                "WHERE site = %s AND id = %s IF state = 'open'",
                (by, at.timestamp(), _SITE, incident_id),
            ).was_applied
        )

    def incident(self, incident_id: int) -> Incident | None:
        row = self._run(
            f"SELECT {_INCIDENT} FROM paging_incidents WHERE site = %s AND id = %s", (_SITE, incident_id)
        ).one()
        return None if row is None else incident_from_row(row)

    def incidents(self, *states: IncidentState) -> list[Incident]:
        found = [i for i in self.recent(INCIDENT_WINDOW) if i.state in states]
        return sorted(found, key=lambda i: i.id)

    def recent(self, limit: int = 100) -> list[Incident]:
        rows = self._run(f"SELECT {_INCIDENT} FROM paging_incidents WHERE site = %s LIMIT %s", (_SITE, limit))
        return [incident_from_row(row) for row in rows]

    # alarms of an incident ----------------------------------------------------------------
    def add_alarm(self, incident: int, event: AlarmEvent) -> None:
        self._run(
            "INSERT INTO paging_alarms (incident, alarm, event, active, added) VALUES (%s, %s, %s, true, %s)",
            (incident, event.alarm, event_json(event), time.time_ns()),
        )

    def set_alarm_active(self, incident: int, alarm: str, active: bool) -> None:
        self._run(
            "UPDATE paging_alarms SET active = %s WHERE incident = %s AND alarm = %s IF EXISTS",
            (active, incident, alarm),
        )

    def alarms(self, incident: int) -> list[PagedAlarm]:
        rows = list(self._run("SELECT alarm, event, active, added FROM paging_alarms WHERE incident = %s",
                              (incident,)))  # fmt: skip
        rows.sort(key=lambda r: (r.added or 0, r.alarm))
        return [PagedAlarm(event_from_json(r.alarm, r.event), bool(r.active)) for r in rows]

    def put_alarms(self, incident: int, alarms: list[PagedAlarm]) -> None:
        base = time.time_ns()
        for n, paged in enumerate(alarms):
            self._run(
                "INSERT INTO paging_alarms (incident, alarm, event, active, added) "
                "VALUES (%s, %s, %s, %s, %s)",
                (incident, paged.alarm, event_json(paged.event), paged.active, base + n),
            )

    def incidents_of(self, alarm: str, *states: IncidentState) -> list[Incident]:
        return [i for i in self.incidents(*states) if any(a.alarm == alarm for a in self.alarms(i.id))]

    # deliveries ---------------------------------------------------------------------------
    def claim(self, delivery: Delivery) -> bool:
        """Record a delivery about to be attempted; False if its key was already taken (by anyone)."""
        return bool(
            self._run(
                f"INSERT INTO paging_deliveries ({_DELIVERY}) VALUES ({', '.join(['%s'] * 12)}) "
                "IF NOT EXISTS",
                delivery_row(delivery),
            ).was_applied
        )

    def update(self, delivery: Delivery) -> None:
        """A claimed delivery's progress; conditional like its claim, so that both are ordered by
        Paxos rather than by two machines' clocks."""
        self._run(
            "UPDATE paging_deliveries SET state = %s, attempts = %s, detail = %s, updated_at = %s "
            "WHERE incident = %s AND key = %s IF EXISTS",
            (delivery.state.value, delivery.attempts, delivery.detail, delivery.updated_at.timestamp(),
             delivery.incident, delivery.key),
        )  # fmt: skip

    def put_delivery(self, delivery: Delivery, attempts: list[tuple[str, datetime, str, str]]) -> None:
        self._run(
            f"INSERT INTO paging_deliveries ({_DELIVERY}) VALUES ({', '.join(['%s'] * 12)})",
            delivery_row(delivery),
        )
        for key, at, outcome, detail in attempts:
            self.attempt(key, at, outcome, detail)

    def delivery(self, key: str) -> Delivery | None:
        try:
            incident = incident_of(key)
        except ValueError:
            return None
        row = self._run(
            f"SELECT {_DELIVERY} FROM paging_deliveries WHERE incident = %s AND key = %s", (incident, key)
        ).one()
        return None if row is None else delivery_from_row(row)

    def deliveries(self, incident: int | None = None, *states: DeliveryState) -> list[Delivery]:
        incidents = [incident] if incident is not None else [i.id for i in self.recent(INCIDENT_WINDOW)]
        found: list[Delivery] = []
        for ident in incidents:
            rows = self._run(f"SELECT {_DELIVERY} FROM paging_deliveries WHERE incident = %s", (ident,))
            found.extend(d for d in map(delivery_from_row, rows) if not states or d.state in states)
        return sorted(found, key=lambda d: (d.created_at, d.key))

    def attempt(self, key: str, at: datetime, outcome: str, detail: str) -> None:
        """One attempt, keyed by its time (a replay of the same attempt is the same row)."""
        seq = uuid.UUID(int=_time_uuid(at, outcome, detail))
        self._run(
            "INSERT INTO paging_attempts (key, seq, ts, outcome, detail) VALUES (%s, %s, %s, %s, %s)",
            (key, seq, at.timestamp(), str(outcome), detail),
        )

    def attempts(self, key: str | None = None) -> list[tuple[str, datetime, str, str]]:
        keys = [d.key for d in self.deliveries()] if key is None else [key]
        rows: list[tuple[str, datetime, str, str]] = []
        for k in keys:
            for r in self._run("SELECT key, ts, outcome, detail FROM paging_attempts WHERE key = %s", (k,)):
                rows.append((r.key, datetime.fromtimestamp(r.ts, UTC), r.outcome, r.detail))
        return sorted(rows, key=lambda r: r[1]) if key is None else rows

    # webhooks -----------------------------------------------------------------------------
    def first_time(self, token: str, at: datetime) -> bool:
        """True the first time any server of the site sees a webhook (Twilio retries reuse it)."""
        return bool(
            self._run(
                "INSERT INTO paging_webhooks (sid, ts) VALUES (%s, %s) "
                f"IF NOT EXISTS USING TTL {_WEBHOOK_TTL_S}",
                (token, at.timestamp()),
            ).was_applied
        )


def _time_uuid(at: datetime, outcome: str, detail: str) -> int:
    """A version-1 UUID whose time is ``at`` and whose node part is a hash of the attempt: the
    same attempt written twice is one row, two attempts in the same microsecond are two."""
    ticks = int(at.timestamp() * 1e7) + 0x01B21DD213814000  # 100 ns since 1582-10-15
    low, mid, high = ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, (ticks >> 48) & 0x0FFF
    node = int.from_bytes(uuid.uuid5(uuid.NAMESPACE_OID, f"{outcome}\x00{detail}").bytes[:8], "big")
    clock_seq = (node >> 48) & 0x3FFF | 0x8000
    return (low << 96) | (mid << 80) | ((high | 0x1000) << 64) | (clock_seq << 48) | (node & 0xFFFFFFFFFFFF)
