"""The embedded historian: one SQLite file in WAL mode, written by one dedicated thread.

Why this shape:
- One writer thread owns the only write connection and drains a queue, so the event loop never
  waits on disk and concurrent batches share one transaction (group commit). It commits whenever
  the queue runs dry, hence always well within a second of a submit.
- Samples live in a ``WITHOUT ROWID`` table keyed by (tag, ts): the key is the clustering order,
  range scans of one tag are sequential, and re-writing a sample is ignored (no duplicates).
- Per-minute and per-hour roll-ups (min/max/sum/count/last) are kept on write, so a year of 1 Hz
  data downsampled to 2,000 points reads 8,760 rows instead of 31.5 million. Samples newer than
  anything stored for their tag (the normal live case) update the roll-ups incrementally; late
  samples (backfill) mark their minutes for an exact recomputation from the raw rows.
- Retention deletes in chunks between write batches, so it never holds ingestion for long.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from core.model import Bucket, Quality, Sample
from core.storage.base import StorageError, bucket_plan, from_us, query_span, to_us

_LOGGER = logging.getLogger(__name__)

MINUTE = 60_000_000
HOUR = 3_600_000_000
SCHEMA_VERSION = 1
_MAX_BATCH_ROWS = 50_000
_PURGE_CHUNK = 20_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS samples (
    tag_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL,
    status INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (tag_id, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_1m (
    tag_id INTEGER NOT NULL, bucket INTEGER NOT NULL, min REAL, max REAL, sum REAL,
    count INTEGER NOT NULL, last_ts INTEGER NOT NULL, last REAL, PRIMARY KEY (tag_id, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_1h (
    tag_id INTEGER NOT NULL, bucket INTEGER NOT NULL, min REAL, max REAL, sum REAL,
    count INTEGER NOT NULL, last_ts INTEGER NOT NULL, last REAL, PRIMARY KEY (tag_id, bucket)) WITHOUT ROWID;
"""

_INSERT = "INSERT OR IGNORE INTO samples (tag_id, ts, value, quality, status) VALUES (?, ?, ?, ?, ?)"

_MERGE = """
INSERT INTO {table} (tag_id, bucket, min, max, sum, count, last_ts, last) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tag_id, bucket) DO UPDATE SET
    min = min(min, excluded.min), max = max(max, excluded.max), sum = sum + excluded.sum,
    count = count + excluded.count,
    last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END,
    last_ts = max(last_ts, excluded.last_ts)
"""

# Exact recomputation of one tag's minutes over a range, from the raw rows.
_REBUILD_1M = """
INSERT OR REPLACE INTO rollup_1m (tag_id, bucket, min, max, sum, count, last_ts, last)
SELECT g.tag_id, g.bucket, g.mn, g.mx, g.sm, g.n, g.lts, s.value FROM (
    SELECT tag_id, ts / 60000000 * 60000000 AS bucket, min(value) AS mn, max(value) AS mx,
           sum(value) AS sm, count(value) AS n, max(ts) AS lts
    FROM samples WHERE tag_id = ?1 AND ts >= ?2 AND ts < ?3 AND quality < 2 AND value IS NOT NULL
    GROUP BY bucket) AS g
JOIN samples AS s ON s.tag_id = g.tag_id AND s.ts = g.lts
"""

_REBUILD_1H = """
INSERT OR REPLACE INTO rollup_1h (tag_id, bucket, min, max, sum, count, last_ts, last)
SELECT g.tag_id, g.bucket, g.mn, g.mx, g.sm, g.n, g.lts, m.last FROM (
    SELECT tag_id, bucket / 3600000000 * 3600000000 AS bucket, min(min) AS mn, max(max) AS mx,
           sum(sum) AS sm, sum(count) AS n, max(last_ts) AS lts, max(bucket) AS lb
    FROM rollup_1m WHERE tag_id = ?1 AND bucket >= ?2 AND bucket < ?3
    GROUP BY bucket / 3600000000) AS g
JOIN rollup_1m AS m ON m.tag_id = g.tag_id AND m.bucket = g.lb
"""

_DOWNSAMPLE_RAW = """
SELECT g.b, g.mn, g.mx, g.sm, g.n, s.value FROM (
    SELECT (ts - ?2) / ?4 AS b, min(value) AS mn, max(value) AS mx, sum(value) AS sm,
           count(value) AS n, max(ts) AS lts
    FROM samples WHERE tag_id = ?1 AND ts >= ?2 AND ts < ?3 AND quality < 2 AND value IS NOT NULL
    GROUP BY b) AS g
JOIN samples AS s ON s.tag_id = ?1 AND s.ts = g.lts ORDER BY g.b
"""

_DOWNSAMPLE_ROLLUP = """
SELECT g.b, g.mn, g.mx, g.sm, g.n, r.last FROM (
    SELECT (bucket - ?2) / ?4 AS b, min(min) AS mn, max(max) AS mx, sum(sum) AS sm,
           sum(count) AS n, max(bucket) AS lb
    FROM {table} WHERE tag_id = ?1 AND bucket >= ?2 AND bucket < ?3
    GROUP BY b) AS g
JOIN {table} AS r ON r.tag_id = ?1 AND r.bucket = g.lb ORDER BY g.b
"""


@dataclass
class _Agg:
    """Running min/max/sum/count/last of fresh samples in one roll-up bucket."""

    min: float
    max: float
    sum: float
    count: int
    last_ts: int
    last: float

    def add(self, ts: int, value: float) -> None:
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        self.sum += value
        self.count += 1
        if ts >= self.last_ts:
            self.last_ts, self.last = ts, value


@dataclass
class _Job:
    """One submitted batch and the future to resolve once it is committed."""

    rows: list[tuple[str, int, float | None, int, int]]
    done: Callable[[BaseException | None], None]
    extra: Any = None


@dataclass
class _Dirty:
    """Roll-up ranges to recompute exactly (late samples), per tag id: [lo, hi) in µs."""

    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)

    def mark(self, tag_id: int, ts: int) -> None:
        lo = ts - ts % HOUR
        hi = lo + HOUR
        old = self.ranges.get(tag_id)
        self.ranges[tag_id] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)


class SQLiteHistorian:
    """The embedded historian (default backend). See the module docstring for the design."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self._synchronous = synchronous
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="historian-read")
        self._local = threading.local()
        self._tag_ids: dict[str, int] = {}
        self._newest: dict[int, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.pending_rows = 0
        self.written_rows = 0

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ready: asyncio.Future[None] = self._loop.create_future()
        self._writer = threading.Thread(
            target=self._run_writer, args=(self._resolver(ready),), name="historian-write", daemon=True
        )
        self._writer.start()
        await ready

    async def stop(self) -> None:
        if self._writer is None:
            return
        self._queue.put(None)
        await asyncio.to_thread(self._writer.join)
        self._writer = None
        self._readers.shutdown(wait=True)

    @property
    def writable(self) -> bool:
        """The writer thread runs (it stops only on close or an unrecoverable open error)."""
        return self._writer is not None and self._writer.is_alive()

    # -- writing --------------------------------------------------------------------------

    def submit(self, samples: Sequence[Sample]) -> asyncio.Future[None]:
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if self._writer is None:
            future.set_exception(StorageError(f"historian {self.path} is not started"))
            return future
        rows = [
            (s.tag, to_us(s.ts), None if math.isnan(s.value) else s.value, int(s.quality), s.status)
            for s in samples
        ]
        self.pending_rows += len(rows)
        self._queue.put(_Job(rows, self._resolver(future)))
        return future

    async def write(self, samples: Sequence[Sample]) -> None:
        await self.submit(samples)

    def _resolver(self, future: asyncio.Future[None]) -> Callable[[BaseException | None], None]:
        """A thread-safe callable that completes ``future`` in its event loop."""
        loop = future.get_loop()

        def settle(error: BaseException | None) -> None:
            if future.done():
                return
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

        def resolve(error: BaseException | None) -> None:
            loop.call_soon_threadsafe(settle, error)

        return resolve

    def _run_writer(self, ready: Callable[[BaseException | None], None]) -> None:
        try:
            db = self._connect()
            with db:
                db.executescript(_SCHEMA)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self._tag_ids = dict(db.execute("SELECT name, id FROM tags").fetchall())
            self._newest = dict(db.execute("SELECT tag_id, max(ts) FROM samples GROUP BY tag_id").fetchall())
        except sqlite3.Error as err:
            ready(StorageError(f"cannot open historian {self.path}: {err}"))
            return
        ready(None)
        stopping = False
        while not stopping:
            jobs: list[_Job] = []
            job = self._queue.get()
            rows = 0
            while True:
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
                rows += len(job.rows)
                if rows >= _MAX_BATCH_ROWS:
                    break
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
            if jobs:
                self._commit(db, jobs)
                self.pending_rows -= rows
        db.close()

    def _commit(self, db: sqlite3.Connection, jobs: list[_Job]) -> None:
        error: BaseException | None = None
        try:
            with db:
                for job in jobs:
                    if job.extra is not None:
                        job.extra(db)
                    else:
                        self._insert(db, job.rows)
        except sqlite3.Error as err:
            _LOGGER.error("historian %s: write failed: %s", self.path, err)
            error = StorageError(f"historian {self.path}: write failed: {err}")
            self._newest = dict(db.execute("SELECT tag_id, max(ts) FROM samples GROUP BY tag_id").fetchall())
        for job in jobs:
            job.done(error)
        if error is None:
            self.written_rows += sum(len(job.rows) for job in jobs)

    def _tag_id(self, db: sqlite3.Connection, name: str) -> int:
        tag_id = self._tag_ids.get(name)
        if tag_id is None:
            db.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (name,))
            tag_id = int(db.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()[0])
            self._tag_ids[name] = tag_id
        return tag_id

    def _insert(self, db: sqlite3.Connection, rows: list[tuple[str, int, float | None, int, int]]) -> None:
        tag_ids = self._tag_ids
        newest = self._newest
        fresh: dict[tuple[int, int], _Agg] = {}
        dirty = _Dirty()
        batch_newest: dict[int, int] = {}
        resolved = []
        for name, ts, value, quality, status in rows:
            tag_id = tag_ids.get(name)
            if tag_id is None:
                tag_id = self._tag_id(db, name)
            resolved.append((tag_id, ts, value, quality, status))
            if ts <= newest.get(tag_id, -1) or ts <= batch_newest.get(tag_id, -1):
                dirty.mark(tag_id, ts)  # late or repeated: recompute exactly
                continue
            batch_newest[tag_id] = ts
            if value is None or quality >= Quality.BAD:
                continue
            key = (tag_id, ts - ts % MINUTE)
            agg = fresh.get(key)
            if agg is None:
                fresh[key] = _Agg(value, value, value, 1, ts, value)
            else:
                agg.add(ts, value)
        db.executemany(_INSERT, resolved)
        newest.update(batch_newest)
        self._merge(db, fresh)
        for tag_id, (lo, hi) in dirty.ranges.items():
            db.execute(_REBUILD_1M, (tag_id, lo, hi))
            db.execute(_REBUILD_1H, (tag_id, lo, hi))

    @staticmethod
    def _merge(db: sqlite3.Connection, fresh: dict[tuple[int, int], _Agg]) -> None:
        if not fresh:
            return
        db.executemany(
            _MERGE.format(table="rollup_1m"),
            [(t, b, a.min, a.max, a.sum, a.count, a.last_ts, a.last) for (t, b), a in fresh.items()],
        )
        hours: dict[tuple[int, int], _Agg] = {}
        for (tag_id, bucket), a in fresh.items():
            key = (tag_id, bucket - bucket % HOUR)
            h = hours.get(key)
            if h is None:
                hours[key] = _Agg(a.min, a.max, a.sum, a.count, a.last_ts, a.last)
            else:
                h.min, h.max = min(h.min, a.min), max(h.max, a.max)
                h.sum += a.sum
                h.count += a.count
                if a.last_ts >= h.last_ts:
                    h.last_ts, h.last = a.last_ts, a.last
        db.executemany(
            _MERGE.format(table="rollup_1h"),
            [(t, b, a.min, a.max, a.sum, a.count, a.last_ts, a.last) for (t, b), a in hours.items()],
        )

    # -- retention ------------------------------------------------------------------------

    async def purge(self, before: datetime) -> int:
        """Delete in chunks of a few thousand rows, each its own short write job."""
        limit = to_us(before)
        total = 0
        while True:
            deleted = await self._run_in_writer(lambda db: self._purge_chunk(db, limit))
            total += deleted
            if deleted < _PURGE_CHUNK:
                return total

    @staticmethod
    def _purge_chunk(db: sqlite3.Connection, limit: int) -> int:
        tag_ids = [row[0] for row in db.execute("SELECT id FROM tags")]
        deleted = 0
        for tag_id in tag_ids:
            cursor = db.execute(
                "DELETE FROM samples WHERE tag_id = ?1 AND ts < ?2 AND ts IN "
                "(SELECT ts FROM samples WHERE tag_id = ?1 AND ts < ?2 LIMIT ?3)",
                (tag_id, limit, _PURGE_CHUNK - deleted),
            )
            deleted += cursor.rowcount
            db.execute("DELETE FROM rollup_1m WHERE tag_id = ? AND bucket + ? <= ?", (tag_id, MINUTE, limit))
            db.execute("DELETE FROM rollup_1h WHERE tag_id = ? AND bucket + ? <= ?", (tag_id, HOUR, limit))
            if deleted >= _PURGE_CHUNK:
                break
        return deleted

    async def _run_in_writer(self, fn: Callable[[sqlite3.Connection], int]) -> int:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        result: list[int] = []
        self._queue.put(_Job([], self._resolver(future), extra=lambda db: result.append(fn(db))))
        await future
        return result[0]

    # -- reading --------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA synchronous = {self._synchronous}")
        db.execute("PRAGMA busy_timeout = 5000")
        db.isolation_level = "DEFERRED"
        return db

    def _reader(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, check_same_thread=False)
            db.execute("PRAGMA busy_timeout = 5000")
            self._local.db = db
        return db

    async def _read(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._readers, lambda: fn(self._reader()))
        except sqlite3.Error as err:
            raise StorageError(f"historian {self.path}: query failed: {err}") from err

    @staticmethod
    def _lookup(db: sqlite3.Connection, tag: str) -> int | None:
        row = db.execute("SELECT id FROM tags WHERE name = ?", (tag,)).fetchone()
        return None if row is None else int(row[0])

    async def raw(self, tag: str, start: datetime, end: datetime, limit: int | None = None) -> list[Sample]:
        def query(db: sqlite3.Connection) -> list[Sample]:
            tag_id = self._lookup(db, tag)
            if tag_id is None:
                return []
            rows = db.execute(
                "SELECT ts, value, quality, status FROM samples WHERE tag_id = ? AND ts >= ? AND ts < ? "
                "ORDER BY ts LIMIT ?",
                (tag_id, to_us(start), to_us(end), -1 if limit is None else limit),
            )
            return [_sample(tag, *row) for row in rows]

        result: list[Sample] = await self._read(query)
        return result

    async def latest(self, tag: str) -> Sample | None:
        def query(db: sqlite3.Connection) -> Sample | None:
            row = db.execute(
                "SELECT ts, value, quality, status FROM samples WHERE tag_id = "
                "(SELECT id FROM tags WHERE name = ?) ORDER BY ts DESC LIMIT 1",
                (tag,),
            ).fetchone()
            return None if row is None else _sample(tag, *row)

        result: Sample | None = await self._read(query)
        return result

    async def last_good_timestamp(self, tag: str) -> datetime | None:
        def query(db: sqlite3.Connection) -> datetime | None:
            row = db.execute(
                "SELECT ts FROM samples WHERE tag_id = (SELECT id FROM tags WHERE name = ?) "
                "AND quality < 2 ORDER BY ts DESC LIMIT 1",
                (tag,),
            ).fetchone()
            return None if row is None else from_us(row[0])

        result: datetime | None = await self._read(query)
        return result

    async def downsampled(self, tag: str, start: datetime, end: datetime, max_points: int) -> list[Bucket]:
        span = query_span(start, end, max_points)
        if span is None:
            return []
        lo, hi = span

        def query(db: sqlite3.Connection) -> list[Bucket]:
            tag_id = self._lookup(db, tag)
            if tag_id is None:
                return []
            plan = _plan(lo, hi, max_points)
            sql, origin, width = plan
            rows = db.execute(sql, (tag_id, origin, hi, width)).fetchall()
            return [
                Bucket(from_us(origin + b * width), mn, mx, sm / n, last, n)
                for b, mn, mx, sm, n, last in rows
                if n
            ]

        result: list[Bucket] = await self._read(query)
        return result


def _plan(lo: int, hi: int, max_points: int) -> tuple[str, int, int]:
    """The SQL (raw rows or a roll-up table) and buckets of a downsampled query."""
    period, origin, width = bucket_plan(lo, hi, max_points)
    if period is None:
        return _DOWNSAMPLE_RAW, origin, width
    table = "rollup_1h" if period == HOUR else "rollup_1m"
    return _DOWNSAMPLE_ROLLUP.format(table=table), origin, width


def _sample(tag: str, ts: int, value: float | None, quality: int, status: int) -> Sample:
    return Sample(tag, from_us(ts), math.nan if value is None else value, Quality(quality), None, status)
