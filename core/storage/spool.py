"""The local store-and-forward spool of a remote historian, in SQLite.

When the remote store (Cassandra) cannot take a write, the samples are appended here, in order,
and the write is reported durable: they are on local disk. A replayer drains the spool oldest
first once the store answers again, deleting each chunk only after the store has it, so a crash
mid-replay replays that chunk again (harmless: writes are idempotent). The spool also keeps the
roll-up minutes still to recompute, so a crash never leaves a roll-up stale.
All calls are blocking: the historian runs them on its own worker thread.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.model import Sample, to_us
from core.storage.paths import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY, tag TEXT NOT NULL, ts INTEGER NOT NULL, value REAL,
    quality INTEGER NOT NULL, status INTEGER NOT NULL, spooled_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS rollup_todo (
    tag TEXT NOT NULL, minute INTEGER NOT NULL, PRIMARY KEY (tag, minute));
"""


# a spooled sample as the historian writes it: tag, time in µs, value (None for NaN), quality, status
SpooledRow = tuple[str, int, float | None, int, int | None]


class SpoolFull(Exception):
    """The spool holds its configured maximum: nothing more can be accepted until it drains."""


class Spool:
    def __init__(self, path: Path, max_samples: int) -> None:
        self.path, self.max_samples = path, max_samples
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(private_file(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self.size = int(self._db.execute("SELECT count(*) FROM spool").fetchone()[0])
        self.oldest_at: float | None = self._oldest_at()

    def _oldest_at(self) -> float | None:
        row = self._db.execute("SELECT spooled_at FROM spool ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else float(row[0])

    def close(self) -> None:
        self._db.close()

    def append(self, samples: Sequence[Sample]) -> None:
        self.append_rows(
            [(s.tag, to_us(s.ts), None if math.isnan(s.value) else s.value, int(s.quality), s.status)
             for s in samples]
        )  # fmt: skip

    def append_rows(self, spooled: Sequence[SpooledRow]) -> None:
        """Append rows of the historian's own shape (what a lost node answered, to write again)."""
        if self.size + len(spooled) > self.max_samples:
            raise SpoolFull(f"spool {self.path} is full ({self.size} samples, limit {self.max_samples})")
        now = time.time()
        rows = [(*row, now) for row in spooled]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO spool (tag, ts, value, quality, status, spooled_at) VALUES (?,?,?,?,?,?)", rows
            )
        self.size += len(rows)
        if self.oldest_at is None:
            self.oldest_at = now

    def oldest(self, n: int, after: int = 0) -> tuple[int, list[SpooledRow]]:
        """The ``n`` oldest spooled rows after sequence ``after`` as ``(tag, ts_us, value, quality,
        status)``, the historian's own row shape, and the last sequence number among them (0 when
        there are none)."""
        rows = self._db.execute(
            "SELECT seq, tag, ts, value, quality, status FROM spool WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, n),
        ).fetchall()
        return (rows[-1][0] if rows else 0), [row[1:] for row in rows]

    def forget(self, up_to: int) -> None:
        """Drop what has been replayed, up to sequence ``up_to``."""
        with self._db:
            deleted = self._db.execute("DELETE FROM spool WHERE seq <= ?", (up_to,)).rowcount
        self.size = max(0, self.size - deleted)
        self.oldest_at = self._oldest_at()

    def age_s(self) -> float:
        """How long the oldest spooled sample has waited (0 when the spool is empty)."""
        return 0.0 if self.oldest_at is None else max(0.0, time.time() - self.oldest_at)

    # roll-up minutes to recompute ------------------------------------------------------------
    def mark(self, minutes: Iterable[tuple[str, int]]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO rollup_todo VALUES (?, ?)", list(minutes))

    def marked(self) -> list[tuple[str, int]]:
        """Every roll-up minute still to do (read once at start; the historian keeps the set)."""
        return list(self._db.execute("SELECT tag, minute FROM rollup_todo ORDER BY tag, minute"))

    def unmark(self, minutes: Iterable[tuple[str, int]]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM rollup_todo WHERE tag = ? AND minute = ?", list(minutes))
