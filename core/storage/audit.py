"""The audit trail and the modes in force, in one SQLite file beside the alarm journal.

Every operator command (allowed or refused), every user and token change lands here with who,
from where and when; the modes (maintenance of a station, site-wide flood) are kept here too,
so that a mode entered before a restart is still in force after it and can be left.
Writes go through one worker thread, so a command never waits on a disk sync in the event loop
(the desktop's UI thread); ``flush`` waits for them when an answer must mean "durable".
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.model import from_us, to_us
from core.storage.paths import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
    origin TEXT NOT NULL, command TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL,
    outcome TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS modes (
    mode TEXT NOT NULL, station TEXT NOT NULL, since INTEGER NOT NULL, actor TEXT NOT NULL,
    reason TEXT NOT NULL, PRIMARY KEY (mode, station));
"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    ts: datetime
    actor: str
    role: str
    origin: str  # desktop, api (token name), cli, sms, voice…
    command: str
    target: str
    detail: str
    outcome: str  # done, refused: <why>, forbidden


@dataclass(frozen=True, slots=True)
class ActiveMode:
    mode: str
    station: str | None  # None: the whole site
    since: datetime
    actor: str
    reason: str


class AuditStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit")
        self._lock = threading.Lock()
        self._last: Future[None] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(private_file(self.path), timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def _submit(self, sql: str, params: tuple[object, ...]) -> None:
        def write() -> None:
            with self._lock, closing(self._connect()) as db, db:
                db.execute(sql, params)

        self._last = self._writer.submit(write)

    def record(self, entry: AuditEntry) -> None:
        """Append ``entry``, in order, without blocking the caller."""
        self._submit(
            "INSERT INTO audit (ts, actor, role, origin, command, target, detail, outcome)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (to_us(entry.ts), entry.actor, entry.role, entry.origin, entry.command, entry.target,
             entry.detail, entry.outcome),
        )  # fmt: skip

    def set_mode(self, mode: ActiveMode | None, name: str, station: str | None) -> None:
        """Record ``name`` (of ``station``) as in force (``mode``) or left (None)."""
        if mode is None:
            self._submit("DELETE FROM modes WHERE mode = ? AND station = ?", (name, station or ""))
        else:
            self._submit(
                "INSERT OR REPLACE INTO modes (mode, station, since, actor, reason) VALUES (?, ?, ?, ?, ?)",
                (name, station or "", to_us(mode.since), mode.actor, mode.reason),
            )

    async def flush(self) -> None:
        """Return once everything recorded so far is on disk."""
        last = self._last
        if last is not None:
            await asyncio.wrap_future(last)

    def close(self) -> None:
        self._writer.shutdown(wait=True)

    def modes(self) -> list[ActiveMode]:
        with closing(self._connect()) as db, db:
            rows = db.execute(
                "SELECT mode, station, since, actor, reason FROM modes ORDER BY since"
            ).fetchall()
        return [ActiveMode(m, s or None, from_us(t), a, r) for m, s, t, a, r in rows]

    def entries(self, since: datetime, until: datetime, limit: int = 10_000) -> list[AuditEntry]:
        """Entries with ``since <= ts < until``, oldest first."""
        with closing(self._connect()) as db, db:
            rows = db.execute(
                "SELECT ts, actor, role, origin, command, target, detail, outcome FROM audit"
                " WHERE ts >= ? AND ts < ? ORDER BY id LIMIT ?",
                (to_us(since), to_us(until), limit),
            ).fetchall()
        return [AuditEntry(from_us(r[0]), *r[1:]) for r in rows]
