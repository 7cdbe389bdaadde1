"""The alarm journal in SQLite: an append-only event table and a current-state table.

Writes go through one worker thread in call order. Transitions recorded while it is busy are
written together in one transaction (an alarm flood must not queue a commit per alarm), so a
kill -9 loses at most the last few milliseconds and the journal is never half-written.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from core.alarms.journal import StoredAlarm
from core.model import AlarmAction, AlarmEvent, AlarmStatus, Priority, from_us, to_us
from core.storage.base import StorageError
from core.storage.paths import private_file

_LOGGER = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alarm_events (
    seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, alarm TEXT NOT NULL, tag TEXT NOT NULL,
    action TEXT NOT NULL, status TEXT NOT NULL, active INTEGER NOT NULL, priority INTEGER NOT NULL,
    value REAL, threshold REAL, message_fr TEXT, message_en TEXT, user TEXT, comment TEXT);
CREATE INDEX IF NOT EXISTS alarm_events_ts ON alarm_events (ts);
CREATE TABLE IF NOT EXISTS alarm_state (
    alarm TEXT PRIMARY KEY, status TEXT NOT NULL, active INTEGER NOT NULL, since INTEGER,
    shelved_until INTEGER, ack_user TEXT, ack_ts INTEGER, raised_value REAL);
CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


_STATE_COLUMNS = "alarm, status, active, since, shelved_until, ack_user, ack_ts, raised_value"


def _us(ts: datetime | None) -> int | None:
    return None if ts is None else to_us(ts)


def _dt(us: int | None) -> datetime | None:
    return None if us is None else from_us(us)


class SQLiteAlarmJournal:
    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self._synchronous = synchronous  # FULL: a journaled event survives a power cut
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alarm-journal")
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[AlarmEvent, StoredAlarm]] = []
        self._lock = threading.Lock()
        self._draining = False
        self.failures = 0

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self._run(self._open)

    def _open(self) -> None:
        db = sqlite3.connect(private_file(self.path), check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA synchronous = {self._synchronous}")
        db.executescript(_SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(alarm_state)")}
        if "raised_value" not in columns:  # a journal written before the raised value was kept
            db.execute("ALTER TABLE alarm_state ADD COLUMN raised_value REAL")
        self._db = db

    async def stop(self) -> None:
        if self._db is None:
            return
        await self.flush()
        db, self._db = self._db, None
        await self._run(db.close)
        self._worker.shutdown(wait=True)

    async def _run(self, fn: Any) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._worker, fn)
        except sqlite3.Error as err:
            raise StorageError(f"alarm journal {self.path}: {err}") from err

    def record(self, event: AlarmEvent, state: StoredAlarm) -> None:
        with self._lock:
            self._pending.append((event, state))
            if self._draining:
                return
            self._draining = True
        self._worker.submit(self._drain)

    def _drain(self) -> None:
        """Worker thread: write everything pending, one transaction per batch, until empty."""
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    self._draining = False
                    return
            try:
                self._write(batch)
            except sqlite3.Error as err:
                if self._db is not None and self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self.failures += 1
                _LOGGER.error("alarm journal %s: %d transitions not written: %s", self.path, len(batch), err)

    def _write(self, batch: list[tuple[AlarmEvent, StoredAlarm]]) -> None:
        assert self._db is not None
        db = self._db
        db.execute("BEGIN")
        for e, s in batch:
            self._write_one(db, e, s)
        db.execute("COMMIT")

    @staticmethod
    def _write_one(db: sqlite3.Connection, e: AlarmEvent, s: StoredAlarm) -> None:
        db.execute(
            "INSERT INTO alarm_events (ts, alarm, tag, action, status, active, priority, value, threshold,"
            " message_fr, message_en, user, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (to_us(e.ts), e.alarm, e.tag, e.action, e.status.value, int(e.active), int(e.priority), e.value,
             e.limit, e.message_fr, e.message_en, e.user, e.comment),
        )  # fmt: skip
        db.execute(
            f"INSERT OR REPLACE INTO alarm_state ({_STATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                s.alarm,
                s.status.value,
                int(s.active),
                _us(s.since),
                _us(s.shelved_until),
                s.ack_user,
                _us(s.ack_ts),
                s.raised_value,
            ),
        )

    async def flush(self) -> None:
        if self._db is not None:
            await self._run(lambda: None)

    async def load(self) -> dict[str, StoredAlarm]:
        def query() -> dict[str, StoredAlarm]:
            assert self._db is not None
            rows = self._db.execute(f"SELECT {_STATE_COLUMNS} FROM alarm_state").fetchall()
            return {
                alarm: StoredAlarm(
                    alarm,
                    AlarmStatus(status),
                    bool(active),
                    _dt(since),
                    _dt(until),
                    user or "",
                    _dt(ack_ts),
                    raised,
                )
                for alarm, status, active, since, until, user, ack_ts, raised in rows
            }

        result: dict[str, StoredAlarm] = await self._run(query)
        return result

    async def events(
        self, since: datetime, until: datetime, alarm: str | None = None, limit: int = 10_000
    ) -> list[AlarmEvent]:
        def query() -> list[AlarmEvent]:
            assert self._db is not None
            sql = (
                "SELECT ts, alarm, tag, action, status, active, priority, value, threshold, message_fr,"
                " message_en, user, comment FROM alarm_events WHERE ts >= ? AND ts < ?"
            )
            args: list[Any] = [to_us(since), to_us(until)]
            if alarm is not None:
                sql += " AND alarm = ?"
                args.append(alarm)
            rows = self._db.execute(sql + " ORDER BY seq LIMIT ?", [*args, limit]).fetchall()
            return [
                AlarmEvent(
                    row[1], row[2], from_us(row[0]), AlarmAction(row[3]), AlarmStatus(row[4]), bool(row[5]),
                    Priority(row[6]), row[7], row[8], row[9] or "", row[10] or "", row[11] or "",
                    row[12] or "",
                )
                for row in rows
            ]  # fmt: skip

        result: list[AlarmEvent] = await self._run(query)
        return result

    # for a replica (the Cassandra journal forwards from here) ----------------------------------
    async def after(self, seq: int, limit: int) -> list[tuple[int, tuple[Any, ...]]]:
        """Raw event rows with a sequence above ``seq``: ``(seq, (ts, alarm, tag, action, …))``."""

        def query() -> list[tuple[int, tuple[Any, ...]]]:
            assert self._db is not None
            rows = self._db.execute(
                "SELECT seq, ts, alarm, tag, action, status, active, priority, value, threshold, message_fr,"
                " message_en, user, comment FROM alarm_events WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
            return [(row[0], (*row[1:6], bool(row[6]), *row[7:])) for row in rows]

        result: list[tuple[int, tuple[Any, ...]]] = await self._run(query)
        return result

    async def state_rows(self, alarms: set[str]) -> list[tuple[Any, ...]]:
        def query() -> list[tuple[Any, ...]]:
            assert self._db is not None
            rows = self._db.execute(f"SELECT {_STATE_COLUMNS} FROM alarm_state").fetchall()
            return [(a, st, bool(act), *rest) for a, st, act, *rest in rows if a in alarms]

        result: list[tuple[Any, ...]] = await self._run(query)
        return result

    async def mark(self, name: str) -> int:
        def query() -> int:
            assert self._db is not None
            row = self._db.execute("SELECT seq FROM marks WHERE name = ?", (name,)).fetchone()
            return int(row[0]) if row else 0

        result: int = await self._run(query)
        return result

    async def set_mark(self, name: str, seq: int) -> None:
        def query() -> None:
            assert self._db is not None
            self._db.execute("INSERT OR REPLACE INTO marks VALUES (?, ?)", (name, seq))

        await self._run(query)
