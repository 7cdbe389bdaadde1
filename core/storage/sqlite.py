"""The embedded historian: one SQLite file in WAL mode, written by one dedicated thread.

Why this shape:
- One writer thread owns the only write connection and drains a queue, so the event loop never
  waits on disk and concurrent batches share one transaction (group commit). It commits whenever
  the queue runs dry, hence always well within a second of a submit.
- Samples live in a ``WITHOUT ROWID`` table keyed by (tag, ts): the key is the clustering order,
  range scans of one tag are sequential, and re-writing a sample is ignored (no duplicates).
- Per-minute and per-hour roll-ups (min/max/sum/count/last) are kept on write, so a year of 1 Hz
  data downsampled to 2,000 points reads 8,760 rows instead of 31.5 million. Samples newer than
  anything stored for their tag (the normal live case) are summed up in memory per tag and
  minute; a tag's closed minutes are merged ten at a time (each upsert rewrites a page of the
  roll-up table, so ten rows a page instead of one), each hour once it is over, and everything a
  query reads just before it, and at stop. The raw rows are written first, so a crash loses no
  roll-up: at start each tag's minutes and hours from its last merged minute on are recomputed
  exactly from the raw rows. Late samples (backfill) mark their hours for the same exact
  recomputation.
- That summing is Python, a third of a microsecond a sample, so it runs off the write's critical
  path when it can: a batch newer than everything stored (the live and the replay case, known
  from its oldest stamp alone) is summed by a second thread while its transaction commits
  (fsync, no GIL held), and what it leaves to merge goes into the next transaction. Nothing it
  holds is lost in a crash: those samples are newer than every merged minute, so the start's
  recomputation covers them. Any other batch is summed in its own transaction, as before.
- Retention deletes in chunks between write batches, so it never holds ingestion for long.

Why one file: one writer thread owns the file: the write path, the roll-ups it keeps and the
queries that read them share that thread's state and the schema.
"""

from __future__ import annotations

import asyncio
import logging
import math
import operator
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from core.model import Bucket, Quality, Sample, from_us, to_us
from core.storage.base import (
    HOUR_US,
    MINUTE_US,
    HistorianDown,
    StorageError,
    bucket_plan,
    query_span,
    write_failure,
)
from core.storage.paths import private_file

_LOGGER = logging.getLogger(__name__)

MINUTE, HOUR = MINUTE_US, HOUR_US
SCHEMA_VERSION = 1
_MAX_BATCH_ROWS = 50_000
_PURGE_CHUNK = 20_000
_HELD_MINUTES = 10  # a tag's closed minutes merged together (the pages they touch, written once)

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


# A roll-up bucket's running figures, a plain list because the writer updates one per sample:
# [min, max, sum, count, last_ts, last]
_Agg = list[Any]
_MIN, _MAX, _SUM, _COUNT, _LAST_TS, _LAST = range(6)
_BAD = int(Quality.BAD)
_TS = operator.itemgetter(1)

# A sample as stored: (tag id, or its name until the writer has given it an id, ts µs, value
# (NaN is stored as NULL by SQLite itself), quality, status)
_Row = tuple[int | str, int, float, int, int]
_Stored = tuple[int, int, float, int, int]  # the same once every tag has its id


def _combine(into: _Agg, other: _Agg) -> None:
    """Fold ``other`` (a later or parallel part of the same bucket) into ``into``."""
    into[_MIN], into[_MAX] = min(into[_MIN], other[_MIN]), max(into[_MAX], other[_MAX])
    into[_SUM] += other[_SUM]
    into[_COUNT] += other[_COUNT]
    if other[_LAST_TS] >= into[_LAST_TS]:
        into[_LAST_TS], into[_LAST] = other[_LAST_TS], other[_LAST]


@dataclass
class _Job:
    """One submitted batch and the future to resolve once it is committed."""

    rows: list[_Row]
    done: Callable[[BaseException | None], None]
    extra: Any = None
    named: bool = False  # some tag had no id yet when submitted: rows hold names


@dataclass
class _Dirty:
    """Roll-up ranges to recompute exactly (late samples), per tag id: [lo, hi) in µs."""

    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)

    def mark(self, tag_id: int, ts: int) -> None:
        lo = ts - ts % MINUTE  # the minutes recomputed from the raw rows; their hours from the minutes
        hi = lo + MINUTE
        old = self.ranges.get(tag_id)
        self.ranges[tag_id] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)


@dataclass
class _Tally:
    """What summing some batches leaves to store: closed minutes and late samples' ranges."""

    closed: dict[tuple[int, int], _Agg] = field(default_factory=dict)
    dirty: _Dirty = field(default_factory=_Dirty)


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
        # the writer thread's own (lent to the roll-up thread while it sums): per tag, its
        # minutes' sums not merged into the roll-ups yet, and its newest stored sample
        self._open: dict[int, dict[int, _Agg]] = {}
        self._hours: dict[int, dict[int, _Agg]] = {}  # per tag, merged minutes' hours not merged yet
        self._high = -1  # the newest sample stored, any tag
        self._later: list[list[_Stored]] = []  # this transaction's batches, summed once it commits
        self._summing: Future[_Tally] | None = None
        self._summer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="historian-rollup")
        self._loop: asyncio.AbstractEventLoop | None = None
        self.pending_rows = 0
        self.written_rows = 0
        self._unsure = False  # the roll-ups in memory may not match the file: recompute them
        self.failing: str | None = None  # why the last transaction failed (DISK_FULL…), None once one commits

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
        self._summer.shutdown(wait=True)

    @property
    def writable(self) -> bool:
        """The writer thread runs (it stops only on close or an unrecoverable open error) and
        its last transaction committed."""
        return self._writer is not None and self._writer.is_alive() and self.failing is None

    # -- writing --------------------------------------------------------------------------

    def submit(self, samples: Sequence[Sample]) -> asyncio.Future[None]:
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if self._writer is None:
            future.set_exception(StorageError(f"historian {self.path} is not started"))
            return future
        ids = self._tag_ids  # (the writer only ever adds to it)
        named = False
        rows: list[_Row]
        try:
            rows = [(ids[s.tag], to_us(s.ts), s.value, int(s.quality), s.status) for s in samples]
        except KeyError:  # a tag never stored: the writer gives it an id
            rows = [(s.tag, to_us(s.ts), s.value, int(s.quality), s.status) for s in samples]
            named = True
        self.pending_rows += len(rows)
        self._queue.put(_Job(rows, self._resolver(future), named=named))
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
            self._newest = _newest(db)
            with db:
                _recover_rollups(db, self._newest)
            self._high = max(self._newest.values(), default=-1)
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
        try:
            with db:
                self._settle(db)
                self._flush(db, list({*self._open, *self._hours}))
        except sqlite3.Error as err:  # recomputed from the raw rows at the next start
            _LOGGER.error("historian %s: roll-ups not merged at stop: %s", self.path, err)
        db.close()

    def _commit(self, db: sqlite3.Connection, jobs: list[_Job]) -> None:
        error: BaseException | None = None
        try:
            if self._unsure:  # a transaction failed: memory is rebuilt from the file first
                self._tag_ids = dict(db.execute("SELECT name, id FROM tags").fetchall())  # none rolled back
                self._newest = _newest(db)
                with db:
                    _recover_rollups(db, self._newest)
                self._high = max(self._newest.values(), default=-1)
                self._unsure = False
            with db:
                self._settle(db)  # what summing the previous transaction left
                for job in jobs:
                    if job.extra is not None:
                        self._settle(db)
                        job.extra(db)
                    else:
                        self._insert(db, job)
                if self._later:  # summed while this transaction commits
                    self._summing = self._summer.submit(self._tally, self._later)
                    self._later = []
        except sqlite3.Error as err:
            reason = write_failure(err)
            if self.failing != reason:  # logged once per cause, not per batch of a long outage
                _LOGGER.error("historian %s: write failed: %s", self.path, err)
            self.failing = reason
            error = HistorianDown(f"historian {self.path}: write failed: {err}", reason)
            # rolled back: what memory holds no longer matches the file; start again from it
            if self._summing is not None:
                self._summing.result()
                self._summing = None
            self._later = []
            self._open.clear()
            self._hours.clear()
            self._unsure = True

        if error is None:
            if self.failing is not None:
                _LOGGER.warning("historian %s: writes succeed again", self.path)
            self.failing = None
            self.written_rows += sum(len(job.rows) for job in jobs)
        for job in jobs:
            job.done(error)

    def _tag_id(self, db: sqlite3.Connection, name: str) -> int:
        tag_id = self._tag_ids.get(name)
        if tag_id is None:
            db.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (name,))
            tag_id = int(db.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()[0])
            self._tag_ids[name] = tag_id
        return tag_id

    def _insert(self, db: sqlite3.Connection, job: _Job) -> None:
        if job.named:
            rows = [(self._tag_id(db, str(t)), ts, v, q, st) for t, ts, v, q, st in job.rows]
        else:
            rows = cast(list[_Stored], job.rows)
        db.executemany(_INSERT, rows)
        if not rows:
            return
        oldest, newest = min(map(_TS, rows)), max(map(_TS, rows))
        if oldest > self._high:  # newer than anything stored: summed while the transaction commits
            self._later.append(rows)
        else:  # late samples among them: summed and stored in this transaction
            self._settle(db)
            self._store(db, self._tally([rows]))
        self._high = max(self._high, newest)

    def _tally(self, batches: list[list[_Stored]]) -> _Tally:
        """Sum samples into their tags' open minutes (the roll-up thread, or the writer)."""
        newest, opened_by_tag = self._newest, self._open
        tally = _Tally()
        dirty = tally.dirty
        closing: set[int] = set()
        for rows in batches:
            for tag_id, ts, value, quality, _status in rows:
                if ts <= newest.get(tag_id, -1):
                    dirty.mark(tag_id, ts)  # late or repeated: recompute exactly
                    continue
                newest[tag_id] = ts  # (a failed commit reads every tag's newest from the file again)
                if value != value or quality >= _BAD:  # NaN or bad: not in the roll-ups
                    continue
                minute = ts - ts % MINUTE
                opened = opened_by_tag.get(tag_id)
                if opened is None:
                    opened = opened_by_tag[tag_id] = {}
                agg = opened.get(minute)
                if agg is None:
                    if len(opened) >= _HELD_MINUTES:
                        closing.add(tag_id)  # its earlier minutes are over: merge them together
                    opened[minute] = [value, value, value, 1, ts, value]
                    continue
                if value < agg[_MIN]:
                    agg[_MIN] = value
                elif value > agg[_MAX]:
                    agg[_MAX] = value
                agg[_SUM] += value
                agg[_COUNT] += 1
                agg[_LAST_TS], agg[_LAST] = ts, value  # newer than anything stored for the tag
        for tag_id in closing:  # every minute before a tag's newest one is closed
            opened = opened_by_tag[tag_id]
            current = max(opened)
            for minute in [m for m in opened if m != current]:
                tally.closed[(tag_id, minute)] = opened.pop(minute)
        return tally

    def _settle(self, db: sqlite3.Connection) -> None:
        """Store what summing has left: wait for the roll-up thread, sum what it was not given
        yet (the open minutes are the writer's again after this)."""
        if self._summing is not None:
            tally = self._summing.result()
            self._summing = None
            self._store(db, tally)
        if self._later:
            self._store(db, self._tally(self._later))
            self._later = []

    def _store(self, db: sqlite3.Connection, tally: _Tally) -> None:
        """Merge closed minutes; recompute late samples' hours exactly from the raw rows."""
        self._merge(db, tally.closed)
        for tag_id, (lo, hi) in tally.dirty.ranges.items():
            # only the late samples' minutes are read again from the raw rows (a 100-sample batch:
            # two or three minutes, not its whole hour); their hours are rebuilt from the minutes
            first, last = lo - lo % HOUR, hi - 1 - (hi - 1) % HOUR + HOUR
            db.execute(_REBUILD_1M, (tag_id, lo, hi))
            db.execute(_REBUILD_1H, (tag_id, first, last))
            for held, start, end in (
                (self._open.get(tag_id, {}), lo, hi),
                (self._hours.get(tag_id, {}), first, last),
            ):
                for bucket in [b for b in held if start <= b < end]:
                    del held[bucket]  # the exact recomputation counted them

    def _flush(self, db: sqlite3.Connection, tag_ids: Sequence[int]) -> int:
        """Merge the open minutes and hours of ``tag_ids`` into the roll-up tables (writer thread)."""
        merged = {
            (tag_id, minute): agg for tag_id in tag_ids for minute, agg in self._open.pop(tag_id, {}).items()
        }
        self._merge(db, merged, flush=tag_ids)
        return len(merged)

    def _merge(
        self, db: sqlite3.Connection, minutes: dict[tuple[int, int], _Agg], flush: Sequence[int] = ()
    ) -> None:
        """Add minutes' figures to the minute roll-up now, and to their hours in memory: an hour is
        merged into the hour roll-up once a later hour of its tag has a merged minute (or on a
        flush), one upsert per tag and hour instead of one per minute. A crash loses none: the
        start recomputes each tag's hours from its last merged minute's on."""
        if minutes:
            db.executemany(_MERGE.format(table="rollup_1m"), [(t, b, *a) for (t, b), a in minutes.items()])
        hours_by_tag = self._hours
        opening: set[int] = set()
        for (tag_id, bucket), a in minutes.items():
            hours = hours_by_tag.get(tag_id)
            if hours is None:
                hours = hours_by_tag[tag_id] = {}
            hour = bucket - bucket % HOUR
            h = hours.get(hour)
            if h is None:
                hours[hour] = list(a)
                opening.add(tag_id)
            else:
                _combine(h, a)
        due: dict[tuple[int, int], _Agg] = {}
        for tag_id in opening:  # its earlier hours are over
            hours = hours_by_tag[tag_id]
            current = max(hours)
            for hour in [h for h in hours if h != current]:
                due[(tag_id, hour)] = hours.pop(hour)
        for tag_id in flush:
            for hour, a in hours_by_tag.pop(tag_id, {}).items():
                due[(tag_id, hour)] = a
        if due:
            db.executemany(_MERGE.format(table="rollup_1h"), [(t, b, *a) for (t, b), a in due.items()])

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
        db = sqlite3.connect(private_file(self.path), isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA synchronous = {self._synchronous}")
        db.execute("PRAGMA busy_timeout = 5000")
        db.isolation_level = "DEFERRED"
        return db

    def _reader(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(private_file(self.path), check_same_thread=False)
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
        tag_id = self._tag_ids.get(tag)
        if bucket_plan(lo, hi, max_points)[0] is not None and tag_id is not None and self._writer is not None:
            await self._run_in_writer(lambda db: self._flush(db, [tag_id]))  # its open minutes too

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


def _newest(db: sqlite3.Connection) -> dict[int, int]:
    """Each tag's newest sample (µs), one index look-up per tag rather than a scan of them all."""
    newest = {}
    for (tag_id,) in db.execute("SELECT id FROM tags").fetchall():
        row = db.execute("SELECT max(ts) FROM samples WHERE tag_id = ?", (tag_id,)).fetchone()
        if row[0] is not None:
            newest[tag_id] = int(row[0])
    return newest


def _recover_rollups(db: sqlite3.Connection, newest: dict[int, int]) -> None:
    """Recompute each tag's roll-ups exactly from its last merged minute on: what the previous
    run held in memory (its open minutes) is counted again from the raw rows."""
    for tag_id, ts in newest.items():
        row = db.execute("SELECT max(bucket) FROM rollup_1m WHERE tag_id = ?", (tag_id,)).fetchone()
        if row[0] is None:  # none merged yet: from its first sample
            row = db.execute("SELECT min(ts) FROM samples WHERE tag_id = ?", (tag_id,)).fetchone()
        merged = row[0] - row[0] % MINUTE
        db.execute(_REBUILD_1M, (tag_id, merged, ts - ts % MINUTE + MINUTE))
        db.execute(_REBUILD_1H, (tag_id, merged - merged % HOUR, ts - ts % HOUR + HOUR))


def _plan(lo: int, hi: int, max_points: int) -> tuple[str, int, int]:
    """The SQL (raw rows or a roll-up table) and buckets of a downsampled query."""
    period, origin, width = bucket_plan(lo, hi, max_points)
    if period is None:
        return _DOWNSAMPLE_RAW, origin, width
    table = "rollup_1h" if period == HOUR else "rollup_1m"
    return _DOWNSAMPLE_ROLLUP.format(table=table), origin, width


def _sample(tag: str, ts: int, value: float | None, quality: int, status: int) -> Sample:
    return Sample(tag, from_us(ts), math.nan if value is None else value, Quality(quality), None, status)
