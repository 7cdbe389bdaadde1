"""The paging store in SQLite: incidents, their alarms, deliveries and attempts (one server).

A delivery's primary key is its deduplication key (incident, kind, cycle, level, person,
channel): a row is inserted *before* the provider is called, so after a kill -9 a message is
never sent a second time; one caught mid-request is marked ``unknown`` and the cascade moves on.

Writes are committed on the loop, in order, but not synced there (WAL, ``synchronous=NORMAL``:
a commit survives a crash of the process at once): an fsync on the loop is a stall of the
desktop's screen, several per page. What must survive a power cut before anything is sent, the
claim of a delivery, is made durable by :meth:`reserve`, which syncs the write-ahead log in a
worker thread just before the provider is called.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from core.model import AlarmEvent
from core.notify.store import ACKED, OPEN, Delivery, DeliveryState, Incident, IncidentState, PagedAlarm
from core.storage.paging import (
    delivery_from_row,
    delivery_row,
    event_from_json,
    event_json,
    incident_from_row,
    incident_row,
)
from core.storage.paths import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, policy TEXT NOT NULL, state TEXT NOT NULL,
    opened_at REAL NOT NULL, level INTEGER NOT NULL, cycle INTEGER NOT NULL, level_at REAL NOT NULL,
    acked_by TEXT, acked_at REAL, closed_at REAL);
CREATE TABLE IF NOT EXISTS incident_alarms (
    incident INTEGER NOT NULL, alarm TEXT NOT NULL, event TEXT NOT NULL, active INTEGER NOT NULL,
    PRIMARY KEY (incident, alarm));
CREATE TABLE IF NOT EXISTS deliveries (
    key TEXT PRIMARY KEY, incident INTEGER NOT NULL, kind TEXT NOT NULL, level INTEGER NOT NULL,
    cycle INTEGER NOT NULL, person TEXT NOT NULL, channel TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL, detail TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_incident ON deliveries (incident);
CREATE TABLE IF NOT EXISTS attempts (
    seq INTEGER PRIMARY KEY, key TEXT NOT NULL, ts REAL NOT NULL, outcome TEXT NOT NULL,
    detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (token TEXT PRIMARY KEY, ts REAL NOT NULL);
"""


class SqlitePagingStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    redundant = False  # one server owns this file

    async def start(self) -> None:
        """Nothing to exchange: one server."""

    async def stop(self) -> None:
        """Every write is already in the file."""

    async def pull(self) -> int:
        return 0

    async def taken_elsewhere(self) -> list[Incident]:
        return []

    def metrics(self) -> dict[str, float]:
        return {}

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the notification store is not open")
        return self._db

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(private_file(self.path), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # synced off the loop: see reserve()
        db.executescript(_SCHEMA)
        self._db = db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # incidents ----------------------------------------------------------------------------
    def open_incident(self, policy: str, at: datetime) -> Incident:
        t = at.timestamp()
        cursor = self.db.execute(
            "INSERT INTO incidents (policy, state, opened_at, level, cycle, level_at) VALUES (?,?,?,0,0,?)",
            (policy, OPEN, t, t),
        )
        assert cursor.lastrowid is not None
        return Incident(cursor.lastrowid, policy, OPEN, at, 0, 0, at)

    def save(self, incident: Incident) -> None:
        ident, *rest = incident_row(incident)
        self.db.execute(
            "UPDATE incidents SET policy=?, state=?, opened_at=?, level=?, cycle=?, level_at=?, acked_by=?, "
            "acked_at=?, closed_at=? WHERE id=?",
            (*rest, ident),
        )

    def incident(self, incident_id: int) -> Incident | None:
        row = self.db.execute("SELECT * FROM incidents WHERE id=?", (incident_id,)).fetchone()
        return None if row is None else incident_from_row(row)

    def incidents(self, *states: IncidentState) -> list[Incident]:
        marks = ",".join("?" * len(states))
        rows = self.db.execute(f"SELECT * FROM incidents WHERE state IN ({marks}) ORDER BY id", states)
        return [incident_from_row(row) for row in rows]

    def recent(self, limit: int = 100) -> list[Incident]:
        rows = self.db.execute("SELECT * FROM incidents ORDER BY id DESC LIMIT ?", (limit,))
        return [incident_from_row(row) for row in rows]

    # alarms of an incident ----------------------------------------------------------------
    def add_alarm(self, incident: int, event: AlarmEvent) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO incident_alarms VALUES (?,?,?,1)",
            (incident, event.alarm, event_json(event)),
        )

    def set_alarm_active(self, incident: int, alarm: str, active: bool) -> None:
        self.db.execute(
            "UPDATE incident_alarms SET active=? WHERE incident=? AND alarm=?", (int(active), incident, alarm)
        )

    def alarms(self, incident: int) -> list[PagedAlarm]:
        rows = self.db.execute(
            "SELECT alarm, event, active FROM incident_alarms WHERE incident=? ORDER BY rowid", (incident,)
        )
        return [PagedAlarm(event_from_json(alarm, event), bool(active)) for alarm, event, active in rows]

    def incidents_of(self, alarm: str, *states: IncidentState) -> list[Incident]:
        marks = ",".join("?" * len(states))
        rows = self.db.execute(
            f"SELECT i.* FROM incidents i JOIN incident_alarms a ON a.incident = i.id "
            f"WHERE a.alarm=? AND i.state IN ({marks}) ORDER BY i.id",
            (alarm, *states),
        )
        return [incident_from_row(row) for row in rows]

    # deliveries ---------------------------------------------------------------------------
    def claim(self, delivery: Delivery) -> bool:
        """Record a delivery about to be attempted; False if its key was already used."""
        cursor = self.db.execute("INSERT OR IGNORE INTO deliveries VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                                 delivery_row(delivery))  # fmt: skip
        return cursor.rowcount == 1

    def update(self, delivery: Delivery) -> None:
        self.db.execute(
            "UPDATE deliveries SET state=?, attempts=?, detail=?, updated_at=? WHERE key=?",
            (
                delivery.state,
                delivery.attempts,
                delivery.detail,
                delivery.updated_at.timestamp(),
                delivery.key,
            ),
        )

    def delivery(self, key: str) -> Delivery | None:
        row = self.db.execute("SELECT * FROM deliveries WHERE key=?", (key,)).fetchone()
        return None if row is None else delivery_from_row(row)

    def deliveries(self, incident: int | None = None, *states: DeliveryState) -> list[Delivery]:
        sql, args = "SELECT * FROM deliveries WHERE 1=1", list[object]()
        if incident is not None:
            sql += " AND incident=?"
            args.append(incident)
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args.extend(states)
        return [delivery_from_row(row) for row in self.db.execute(sql + " ORDER BY created_at, key", args)]

    def attempt(self, key: str, at: datetime, outcome: str, detail: str) -> None:
        self.db.execute(
            "INSERT INTO attempts (key, ts, outcome, detail) VALUES (?,?,?,?)",
            (key, at.timestamp(), outcome, detail),
        )

    def attempts(self, key: str | None = None) -> list[tuple[str, datetime, str, str]]:
        sql = "SELECT key, ts, outcome, detail FROM attempts"
        rows = self.db.execute(
            sql + " WHERE key=? ORDER BY seq" if key else sql + " ORDER BY seq", (key,) if key else ()
        )
        return [(k, datetime.fromtimestamp(ts, UTC), outcome, detail) for k, ts, outcome, detail in rows]

    # webhooks -----------------------------------------------------------------------------
    def first_time(self, token: str, at: datetime) -> bool:
        """True the first time a webhook is seen; Twilio retries carry the same token."""
        cursor = self.db.execute("INSERT OR IGNORE INTO webhooks VALUES (?, ?)", (token, at.timestamp()))
        return cursor.rowcount == 1

    # copies of another store's rows (a redundant server catching up) ----------------------
    def put_incident(self, incident: Incident) -> None:
        """Write ``incident`` under its own id (later ids continue after it)."""
        self.db.execute("INSERT OR REPLACE INTO incidents VALUES (?,?,?,?,?,?,?,?,?,?)",
                        incident_row(incident))  # fmt: skip

    def put_alarms(self, incident: int, alarms: list[PagedAlarm]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM incident_alarms WHERE incident=?", (incident,))
            self.db.executemany(
                "INSERT INTO incident_alarms VALUES (?,?,?,?)",
                [(incident, a.alarm, event_json(a.event), int(a.active)) for a in alarms],
            )

    def put_delivery(self, delivery: Delivery, attempts: list[tuple[str, datetime, str, str]]) -> None:
        """Write ``delivery`` and replace its attempts with ``attempts``."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT OR REPLACE INTO deliveries VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", delivery_row(delivery)
            )
            self.db.execute("DELETE FROM attempts WHERE key=?", (delivery.key,))
            self.db.executemany(
                "INSERT INTO attempts (key, ts, outcome, detail) VALUES (?,?,?,?)",
                [(key, at.timestamp(), outcome, detail) for key, at, outcome, detail in attempts],
            )

    # what only redundant servers need, trivial on one ---------------------------------------
    def acknowledge(self, incident: Incident, by: str, at: datetime) -> None:
        incident.state, incident.acked_by, incident.acked_at = ACKED, by, at
        self.save(incident)

    async def reserve(self, delivery: Delivery) -> bool:
        """``claim`` already decided (one server owns this file); the claim is made durable
        before the provider is called: the write-ahead log, where it was committed, is synced
        to disk in a worker thread (the loop, a desktop's screen, never waits on the disk)."""
        await asyncio.to_thread(self.sync)
        return True

    async def current(self, incident_id: int) -> Incident | None:
        """One server owns this file: its copy is the site's."""
        return self.incident(incident_id)

    async def settled(self) -> None:
        """Every write is already here."""

    def sync(self) -> None:
        """Everything committed so far, on disk (whoever commits meanwhile)."""
        wal = self.path.with_name(self.path.name + "-wal")
        try:
            fd = os.open(wal, os.O_RDONLY)
        except FileNotFoundError:  # nothing was written since the last checkpoint
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
