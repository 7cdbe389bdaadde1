"""The Cassandra historian, with a local store-and-forward spool.

With ``cassandra_session.py`` (the connection) and ``cassandra_journal.py`` (the alarm
journal's shared tables), the only cassandra-driver importers.

Data model (keyspace and replication from ``storage.cassandra``):
- ``samples``: partition ``(tag, bucket)`` where a bucket is ``partition_hours`` long (a day at
  1 Hz is 86,400 rows, under the ~100k a partition should hold), clustered by time descending
  (the newest first, as ``latest`` wants), TimeWindowCompactionStrategy, and a TTL from
  ``retention_days``. Timestamps are integer microseconds, exactly as the SQLite backend keeps them.
- ``rollup_1m`` and ``rollup_1h``: min/max/sum/count/last per minute and per hour, so that a
  year of one tag is read as 8,760 rows. A minute's figures come from what this process wrote
  into it (``minute_sums.py``: a repeated sample counts once) when it is the minute's only
  writer, and otherwise from the minute's raw rows (a late sample, another server of a redundant
  pair, an earlier run of this process): exact either way. An hour is summed by Cassandra from
  its minutes, one row back instead of sixty. A background task rolls each minute up once it is
  over, and a downsampled query rolls its tag's minutes first (its open minute too); the minutes
  still to do are kept in the spool file, marked before their rows are written.
- ``hour_writers``: partition ``hour``, which writers (one id per historian start) wrote
  samples of which tag in that hour; written before the samples. A minute whose tag and hour
  have another writer than this run is rolled up from its raw rows. A keyspace made before these
  markers existed keeps the time of its upgrade: the minutes before it are always read back.
- ``tag_buckets``: which partitions each tag has, for raw reads, ``latest`` and purges.

Writes use prepared, idempotent statements grouped per partition into unlogged batches, many
in flight at once (bounded). When Cassandra cannot take a write, the samples go to the spool
(``core/storage/spool.py``) and the write counts as durable. They are replayed oldest first
once Cassandra answers, while new samples keep flowing. Nothing is lost, and nothing is
duplicated, because a sample's key is (tag, time).

Why one file: the write path, the spool's forwarding and replay, the roll-ups and the reads
share one session, one bound on the requests in flight and the spool; the connection and the
journal's tables are apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from cassandra import InvalidRequest
from cassandra.cluster import Cluster, ResponseFuture, Session
from cassandra.query import BatchStatement, BatchType, PreparedStatement

from core.config.schema import Cassandra
from core.model import Bucket, Quality, Sample, utcnow
from core.storage.base import (
    DAY_US,
    HOUR_US,
    MINUTE_US,
    StorageError,
    bucket_plan,
    from_us,
    query_span,
    to_us,
)
from core.storage.cassandra_session import connect
from core.storage.minute_sums import Minute, MinuteSums
from core.storage.spool import Spool, SpooledRow, SpoolFull

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

MINUTE, HOUR = MINUTE_US, HOUR_US
SCHEMA_VERSION = 2  # 2: hour_writers, schema_version.markers_since
_BATCH_ROWS = 64  # rows of one partition per unlogged batch
_REPLAY_CHUNK = 20_000  # samples per replay round: enough requests to fill max_in_flight
_ROLL_GRACE_US = 5_000_000  # a minute without a later sample is rolled up this long after its end
_HOUR_LAG_S = 60.0  # an open hour's roll-up follows its minutes' at most this late (another server's trend)
_PROBE_MAX_S = 2.0  # at most this long between two probes of a Cassandra that is down

_TABLES = [
    """CREATE TABLE IF NOT EXISTS samples (
        tag text, bucket bigint, ts bigint, value double, quality tinyint, status bigint,
        PRIMARY KEY ((tag, bucket), ts)) WITH CLUSTERING ORDER BY (ts DESC)
        AND compaction = {{'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS',
                          'compaction_window_size': 1}}
        AND default_time_to_live = {ttl}""",
    """CREATE TABLE IF NOT EXISTS rollup_1m (
        tag text, day bigint, bucket bigint, min double, max double, sum double, count int, last double,
        PRIMARY KEY ((tag, day), bucket)) WITH default_time_to_live = {ttl}""",
    """CREATE TABLE IF NOT EXISTS rollup_1h (
        tag text, year int, bucket bigint, min double, max double, sum double, count int, last double,
        PRIMARY KEY ((tag, year), bucket)) WITH default_time_to_live = {ttl}""",
    """CREATE TABLE IF NOT EXISTS tag_buckets (tag text, bucket bigint, PRIMARY KEY (tag, bucket))
        WITH CLUSTERING ORDER BY (bucket DESC)""",
    """CREATE TABLE IF NOT EXISTS hour_writers (hour bigint, tag text, writer uuid,
        PRIMARY KEY (hour, tag, writer)) WITH default_time_to_live = {ttl}""",
    "CREATE TABLE IF NOT EXISTS schema_version (id int PRIMARY KEY, version int, markers_since bigint)",
]
_TTL_TABLES = ("samples", "rollup_1m", "rollup_1h", "hour_writers")


def _year(us: int) -> int:
    return from_us(us).year


class CassandraHistorian:
    def __init__(
        self, settings: Cassandra, retention_days: int, spool_path: Path, password: str | None = None
    ) -> None:
        self.settings, self.retention_days = settings, retention_days
        self.spool_path = spool_path
        self._password = password
        self._span = settings.partition_hours * HOUR
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._up = False
        self._spool: Spool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._io = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cassandra")
        self._spooler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool")
        self._tasks: list[asyncio.Task[None]] = []
        self._watchdog: asyncio.Task[None] | None = None
        self._waiting: dict[asyncio.Future[Any], float] = {}  # requests sent: answer due by (loop time)
        self._known: set[tuple[str, int]] = set()  # (tag, bucket) already in tag_buckets
        self._in_flight: asyncio.Semaphore | None = None
        self._roll_lock = asyncio.Lock()
        self._marked: set[tuple[str, int]] = set()  # the spool's roll-up minutes to recompute, as committed
        self._rolling: set[tuple[str, int]] | None = None  # minutes marked again while a roll runs
        # hours whose minutes are rolled up, not yet the hour: since when, and those minutes
        self._hours_due: dict[tuple[str, int], tuple[float, set[int]]] = {}
        self._newest: dict[str, int] = {}  # per tag, its newest sample written (µs): closes its minutes
        self._written_at: dict[str, float] = {}  # per tag, when it was last written (loop time)
        self._sums = MinuteSums()
        self._writer = uuid.uuid4()  # this run's id in hour_writers
        self._markers_since = 0  # minutes before this (µs) may hold samples written without a marker
        self._prepared: dict[str, PreparedStatement] = {}
        self.replayed = 0
        self.written_rows = 0  # samples written into Cassandra, directly or replayed from the spool

    # life cycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._in_flight = asyncio.Semaphore(self.settings.max_in_flight)
        self._spool = await self._spooled(Spool, self.spool_path, self.settings.spool_max_samples)
        self._marked = set(await self._spooled(self._spool.marked))
        try:
            await self._blocking(self._connect)
        except Exception as err:  # the server keeps running on the spool until Cassandra answers
            _LOGGER.error("Cassandra %s unreachable at start: %s; samples are spooled", self._where(), err)
        if self._spool.size:
            _LOGGER.warning("%d samples waiting in the spool %s", self._spool.size, self.spool_path)
        self._tasks = [
            asyncio.create_task(self._forward(), name="cassandra-forward"),
            asyncio.create_task(self._rollups(), name="cassandra-rollups"),
        ]
        self._watchdog = asyncio.create_task(self._expire(), name="cassandra-watchdog")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._up:
            try:
                await self._roll(None)
            except Exception as err:
                _LOGGER.warning("roll-ups left to the next start: %s", err)
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        if self._cluster is not None:
            await self._blocking(self._cluster.shutdown)
        if self._spool is not None:
            await self._spooled(self._spool.close)
        self._io.shutdown(wait=True)
        self._spooler.shutdown(wait=True)

    def _where(self) -> str:
        return f"{','.join(self.settings.contact_points)}:{self.settings.port}"

    def _connect(self) -> None:
        """Connect, create or migrate the schema, prepare the statements (blocking)."""
        s = self.settings
        cluster, session = connect(s, self._password)
        try:
            self._markers_since = self._migrate(session)
        except Exception:
            cluster.shutdown()
            raise
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster, self._session = cluster, session
        q = f"{s.keyspace}."
        columns = "ts, value, quality, status"
        rollup = "bucket, min, max, sum, count, last"
        where = "WHERE tag = ? AND bucket = ?"
        statements = {
            "insert": f"INSERT INTO {q}samples (tag, bucket, {columns}) VALUES (?,?,?,?,?,?)",
            "bucket": f"INSERT INTO {q}tag_buckets (tag, bucket) VALUES (?, ?)",
            "claim": f"INSERT INTO {q}hour_writers (hour, tag, writer) VALUES (?, ?, ?)",
            "writers": f"SELECT tag, writer FROM {q}hour_writers WHERE hour = ?",
            "minute": f"INSERT INTO {q}rollup_1m (tag, day, {rollup}) VALUES (?,?,?,?,?,?,?,?)",
            "hour": f"INSERT INTO {q}rollup_1h (tag, year, {rollup}) VALUES (?,?,?,?,?,?,?,?)",
            "del_minute": f"DELETE FROM {q}rollup_1m WHERE tag = ? AND day = ? AND bucket = ?",
            "del_hour": f"DELETE FROM {q}rollup_1h WHERE tag = ? AND year = ? AND bucket = ?",
            "range": f"SELECT {columns} FROM {q}samples {where} AND ts >= ? AND ts < ?",
            "range_asc": f"SELECT {columns} FROM {q}samples {where} AND ts >= ? AND ts < ? ORDER BY ts ASC",
            # an hour's figures summed by Cassandra: one row back instead of its 60 minutes; with
            # aggregates, plain columns are those of the first row matching: the newest minute
            "hour_sums": f"SELECT last, min(min) AS mn, max(max) AS mx, sum(sum) AS sm, sum(count) AS n "
            f"FROM {q}rollup_1m WHERE tag = ? AND day = ? AND bucket >= ? AND bucket < ? "
            "ORDER BY bucket DESC",
            "minutes": f"SELECT {rollup} FROM {q}rollup_1m WHERE tag = ? AND day = ? "
            "AND bucket >= ? AND bucket < ?",
            "hours": f"SELECT {rollup} FROM {q}rollup_1h WHERE tag = ? AND year = ? "
            "AND bucket >= ? AND bucket < ?",
            "buckets": f"SELECT bucket FROM {q}tag_buckets WHERE tag = ?",
            "tags": f"SELECT DISTINCT tag FROM {q}tag_buckets",
            "newest": f"SELECT {columns} FROM {q}samples WHERE tag = ? AND bucket = ? LIMIT 1",
            "scan": f"SELECT ts, quality FROM {q}samples WHERE tag = ? AND bucket = ?",
            "count_before": f"SELECT count(*) AS n FROM {q}samples WHERE tag = ? AND bucket = ? AND ts < ?",
            "delete_before": f"DELETE FROM {q}samples WHERE tag = ? AND bucket = ? AND ts < ?",
            "delete_bucket": f"DELETE FROM {q}tag_buckets WHERE tag = ? AND bucket = ?",
        }
        self._prepared = {}
        for name, cql in statements.items():
            prepared = session.prepare(cql)
            prepared.is_idempotent = True  # same key, same row: a retry never duplicates
            self._prepared[name] = prepared
        self._up = True
        _LOGGER.info("Cassandra %s connected (keyspace %s)", self._where(), s.keyspace)

    def _migrate(self, session: Session) -> int:
        """Create or upgrade the tables; the answer is when writer markers began (µs, 0: always)."""
        ttl = self.retention_days * 86_400
        row = None
        try:
            row = session.execute("SELECT * FROM schema_version WHERE id = 0").one()
        except Exception:
            row = None  # a new keyspace: no version table yet
        version = row.version if row else 0
        since = getattr(row, "markers_since", None) or 0
        if version < SCHEMA_VERSION:
            for cql in _TABLES:
                session.execute(cql.format(ttl=ttl))
            if version == 1:  # samples were written without markers until now
                with contextlib.suppress(InvalidRequest):  # another server upgraded it just now
                    session.execute("ALTER TABLE schema_version ADD markers_since bigint")
                since = to_us(utcnow())
        for table in _TTL_TABLES:  # the retention may have changed since the tables were made
            session.execute(f"ALTER TABLE {table} WITH default_time_to_live = {ttl}")
        session.execute(
            "INSERT INTO schema_version (id, version, markers_since) VALUES (0, %s, %s)",
            (SCHEMA_VERSION, since),
        )
        return since

    # helpers ----------------------------------------------------------------------------------
    async def _blocking(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._io, call, *args)

    async def _spooled(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._spooler, call, *args)

    def _execute(self, statement: Any, args: Sequence[Any] = (), paged: bool = False) -> asyncio.Future[Any]:
        """Send one statement without blocking; the future gets the first page of rows, or with
        ``paged`` every page, fetched one after the other by the driver's own thread."""
        if self._session is None:
            raise StorageError(f"Cassandra {self._where()} is not connected")
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        response: ResponseFuture = self._session.execute_async(statement, args)
        waiting, due = self._waiting, self._answer_within_s
        waiting[future] = loop.time() + due

        def settle(rows: Any, error: BaseException | None) -> None:
            waiting.pop(future, None)
            if future.done():
                return
            if error is None:
                future.set_result(rows)
            else:
                future.set_exception(error)

        pages: list[Any] = []

        def ok(rows: Any) -> None:
            if paged:
                pages.extend(rows or ())
                if response.has_more_pages:
                    waiting[future] = time.monotonic() + due  # the loop's clock: each page has its time
                    response.start_fetching_next_page()
                    return
                rows = pages
            loop.call_soon_threadsafe(settle, rows, None)

        def failed(error: BaseException) -> None:
            loop.call_soon_threadsafe(settle, None, error)

        response.add_callbacks(ok, failed)
        return future

    @property
    def _answer_within_s(self) -> float:
        return 3 * self.settings.timeout_s + 1

    async def _expire(self) -> None:
        """Fail the requests whose answer is overdue. The driver times each request out itself,
        but an answer lost with its connection (a node stopped mid-request) was once awaited
        forever, and a server's stop with it."""
        loop = asyncio.get_running_loop()
        late = f"Cassandra {self._where()}: no answer within {self._answer_within_s:.0f} s"
        while True:
            await asyncio.sleep(1.0)
            now = loop.time()
            for future, due in list(self._waiting.items()):
                if due <= now:
                    self._waiting.pop(future, None)
                    if not future.done():
                        future.set_exception(StorageError(late))

    def _bucket(self, us: int) -> int:
        return us - us % self._span

    # writing ----------------------------------------------------------------------------------
    @property
    def writable(self) -> bool:
        """Writes succeed while Cassandra answers or the spool has room."""
        spool = self._spool
        return spool is not None and (self._up or spool.size < spool.max_samples)

    def metrics(self) -> dict[str, float]:
        spool = self._spool
        return {
            "cassandra_up": float(self._up),
            "spool_samples": float(spool.size if spool else 0),
            "spool_age_seconds": spool.age_s() if spool else 0.0,
            "replayed": float(self.replayed),
        }

    def submit(self, samples: Sequence[Sample]) -> asyncio.Future[None]:
        return asyncio.ensure_future(self.write(samples))

    async def write(self, samples: Sequence[Sample]) -> None:
        if not samples:
            return
        if self._spool is None:
            raise StorageError("the Cassandra historian is not started")
        if self._up:
            try:
                await self._insert(samples)
                self.written_rows += len(samples)
                return
            except Exception as err:
                self._lost(err)
        try:
            await self._spooled(self._spool.append, list(samples))
        except SpoolFull as err:
            _LOGGER.error("%s: samples refused until Cassandra answers again", err)
            raise StorageError(str(err)) from err

    def _lost(self, err: BaseException) -> None:
        if self._up:
            _LOGGER.error(
                "Cassandra %s write failed (%s): spooling to %s", self._where(), err, self.spool_path
            )
        self._up = False

    async def _insert(self, samples: Sequence[Sample]) -> None:
        rows = [(s.tag, to_us(s.ts), None if math.isnan(s.value) else s.value, int(s.quality), s.status)
                for s in samples]  # fmt: skip
        await self._insert_rows(rows)

    async def _insert_rows(self, spooled: Sequence[SpooledRow]) -> None:
        """Write to Cassandra, grouped by partition, many batches in flight; then mark the roll-ups.
        Rows are the spool's own shape, so a replay skips the round trip through ``Sample``."""
        insert = self._prepared["insert"]
        partitions: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
        minutes: set[tuple[str, int]] = set()
        newest: dict[str, int] = {}
        for tag, us, value, quality, status in spooled:
            bucket = self._bucket(us)
            partitions[(tag, bucket)].append((tag, bucket, us, value, quality, status))
            minutes.add((tag, us // MINUTE * MINUTE))
            if us > newest.get(tag, -1):
                newest[tag] = us
        requests: list[Any] = []
        for rows in partitions.values():
            for i in range(0, len(rows), _BATCH_ROWS):
                chunk = rows[i : i + _BATCH_ROWS]
                if len(chunk) == 1:
                    requests.append((insert, chunk[0]))
                    continue
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                batch.is_idempotent = True
                for row in chunk:
                    batch.add(insert, row)
                requests.append((batch, ()))
        new = [key for key in partitions if key not in self._known]
        requests += [(self._prepared["bucket"], key) for key in new]
        sums = self._sums
        sums.sending(minutes)
        try:  # the minutes marked to do and claimed first: a crash mid-write leaves none stale
            await asyncio.gather(self._mark(minutes), self._claim(minutes))
            await asyncio.gather(*(self._bounded(statement, args) for statement, args in requests))
        except BaseException:
            sums.written(minutes, None)
            raise
        sums.written(minutes, spooled)
        self._known.update(new)
        at = asyncio.get_running_loop().time()
        for tag, us in newest.items():
            self._written_at[tag] = at
            if us > self._newest.get(tag, -1):
                self._newest[tag] = us
        await self._mark(minutes)  # again: a roll-up that ran meanwhile keeps them to do

    async def _claim(self, minutes: set[Minute]) -> None:
        """Say in hour_writers that this run writes samples of these minutes' tags and hours."""
        hours = self._sums.unclaimed({(tag, m - m % HOUR) for tag, m in minutes})
        per_hour: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for tag, hour in hours:
            per_hour[hour].append((hour, tag, self._writer))
        await asyncio.gather(*(self._batched(self._prepared["claim"], rows) for rows in per_hour.values()))
        self._sums.claimed(hours)

    async def _mark(self, minutes: set[tuple[str, int]]) -> None:
        """Mark roll-up minutes to recompute, in the spool (so a crash never leaves one stale).

        A minute already marked is not written again: a live tag's batches fall in its open
        minute, which is marked once, not at every batch. A mark made while a roll runs keeps
        its minute from being unmarked by that roll, which may have read the raw rows before
        these were written."""
        assert self._spool is not None
        if self._rolling is not None:
            self._rolling.update(minutes)
        new = minutes - self._marked
        if new:
            await self._spooled(self._spool.mark, new)
            self._marked.update(new)

    async def _bounded(self, statement: Any, args: Sequence[Any]) -> None:
        assert self._in_flight is not None
        async with self._in_flight:
            await self._execute(statement, args)

    async def _read(self, name: str, args: Sequence[Any]) -> list[Any]:
        """A read of every page, sent like the writes: many in flight, no thread waiting on it."""
        assert self._in_flight is not None
        async with self._in_flight:
            try:
                return list(await self._execute(self._prepared[name], args, paged=True))
            except Exception as err:
                raise StorageError(f"Cassandra {self._where()}: {err}") from err

    async def _forward(self) -> None:
        """Reconnect when Cassandra is lost, and replay the spool oldest first when it is back."""
        pause = 1.0
        while True:
            try:
                if not self._up:
                    if self._session is None:
                        await self._blocking(self._connect)
                    else:
                        await self._execute("SELECT release_version FROM system.local")
                        self._up = True
                    _LOGGER.info("Cassandra %s answers again", self._where())
                assert self._spool is not None
                if self._spool.size:
                    await self._replay()
                pause = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self._lost(err)
                pause = min(pause * 2, _PROBE_MAX_S)
            await asyncio.sleep(pause)

    async def _replay(self) -> None:
        """Drain the spool oldest first; the next chunk is read while the current one is written,
        and a chunk is forgotten only once written (a failure replays it again, idempotently)."""
        assert self._spool is not None
        last, chunk = await self._spooled(self._spool.oldest, _REPLAY_CHUNK)
        while chunk:
            following = asyncio.ensure_future(self._spooled(self._spool.oldest, _REPLAY_CHUNK, last))
            try:
                await self._insert_rows(chunk)
            except BaseException:
                following.cancel()
                raise
            await self._spooled(self._spool.forget, last)
            self.replayed += len(chunk)
            self.written_rows += len(chunk)
            next_last, chunk = await following
            last = next_last or last
        _LOGGER.info("spool drained: %d samples replayed into Cassandra", self.replayed)

    # roll-ups ---------------------------------------------------------------------------------
    async def _rollups(self) -> None:
        """Roll up each minute once it is over, not at every batch while it fills: a query
        rolls its tag's open minutes itself, and the stop rolls everything left."""
        while True:
            await asyncio.sleep(1.0)
            if self._up:
                try:
                    await self._roll(None, closed_only=True)
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    _LOGGER.warning("roll-ups postponed: %s", err)

    async def _roll(self, tag: str | None, closed_only: bool = False) -> None:
        """Recompute the marked minutes (of ``tag``, or all; with ``closed_only``, those over:
        a later sample of the tag written, or the minute ended and the tag not written for
        ``_ROLL_GRACE_US``), then their hours."""
        assert self._spool is not None
        async with self._roll_lock:
            self._rolling = set()
            try:
                await self._roll_marked(tag, closed_only)
            finally:
                self._rolling = None

    async def _roll_marked(self, tag: str | None, closed_only: bool) -> None:
        assert self._spool is not None and self._rolling is not None
        marked = sorted(m for m in self._marked if tag is None or m[0] == tag)
        ended, newest = to_us(utcnow()) - _ROLL_GRACE_US, self._newest
        quiet, written_at = asyncio.get_running_loop().time() - _ROLL_GRACE_US / 1e6, self._written_at

        def over(t: str, m: int) -> bool:
            """A later sample of the tag is written, or the minute has ended and the tag is quiet
            (a replay of old samples keeps writing into minutes long ended)."""
            end = m + MINUTE
            return end <= newest.get(t, -1) or (end <= ended and written_at.get(t, -math.inf) <= quiet)

        if closed_only:
            marked = [(t, m) for t, m in marked if over(t, m)]
        if marked:
            await self._roll_minutes_marked(marked, over)
        now = asyncio.get_running_loop().time()
        await self._roll_hours(tag, closed_only, lambda t, h: over(t, h + HOUR - MINUTE), now)

    async def _roll_minutes_marked(self, marked: list[Minute], over: Callable[[str, int], bool]) -> None:
        """Recompute these minutes: from this run's sums where it is their only writer, else from
        their raw rows; their hours are then due."""
        assert self._rolling is not None
        summed = [m for m in marked if m[1] >= self._markers_since and self._sums.known(m)]
        shared = await self._shared(summed)
        summed = [m for m in summed if m not in shared and self._sums.known(m)]  # a write may have failed
        await self._write_minutes(summed)
        spans: dict[tuple[str, int], list[int]] = defaultdict(list)
        for t, minute in set(marked).difference(summed):  # read back: no marker, or other writers
            spans[(t, self._bucket(minute))].append(minute)
        groups = list(spans.items())
        for i in range(0, len(groups), 16):  # a few partitions at a time: memory stays bounded
            await asyncio.gather(*(self._roll_minutes(t, minutes) for (t, _), minutes in groups[i : i + 16]))
        now = asyncio.get_running_loop().time()
        for t, m in marked:
            self._hours_due.setdefault((t, m - m % HOUR), (now, set()))[1].add(m)
        # the others: rows written since the roll began, or still being written
        done = [m for m in marked if m not in self._rolling and not self._sums.busy(m)]
        self._marked.difference_update(done)  # before the unmark, which a later mark follows
        sums = self._sums  # minutes rolled up since their last write, and over: forgotten
        sums.drop([m for m in sums if m not in self._marked and not sums.busy(m) and over(*m)])

    async def _roll_hours(
        self, tag: str | None, closed_only: bool, over: Callable[[str, int], bool], now: float
    ) -> None:
        """Recompute the hours whose minutes were rolled up (of ``tag``, or all; with
        ``closed_only``, those over or waiting ``_HOUR_LAG_S``), then forget their minutes in
        the spool: until then a crash leaves them to do again, and their hour with them."""
        assert self._spool is not None
        due = [
            (t, h)
            for (t, h), (since, _) in self._hours_due.items()
            if (tag is None or t == tag) and (not closed_only or since <= now - _HOUR_LAG_S or over(t, h))
        ]
        for i in range(0, len(due), 256):
            await asyncio.gather(*(self._roll_hour(t, h) for t, h in due[i : i + 256]))
        finished, busy = [], self._sums.busy
        for t, h in due:
            _, minutes = self._hours_due.pop((t, h))
            finished += [(t, m) for m in minutes if (t, m) not in self._marked and not busy((t, m))]
        await self._spooled(self._spool.unmark, finished)

    async def _shared(self, minutes: list[Minute]) -> set[Minute]:
        """Which of these minutes another writer (another server, an earlier run) also wrote
        into, as far as their hours tell."""
        hours = sorted({m - m % HOUR for _, m in minutes})
        shared: set[tuple[str, int]] = set()
        for i in range(0, len(hours), 1024):  # small answers: the in-flight bound is the limit
            chunk = hours[i : i + 1024]
            answers = await asyncio.gather(*(self._read("writers", (hour,)) for hour in chunk))
            for hour, rows in zip(chunk, answers, strict=True):
                shared.update((r.tag, hour) for r in rows if r.writer != self._writer)
        return {(tag, m) for tag, m in minutes if (tag, m - m % HOUR) in shared}

    async def _write_minutes(self, minutes: list[Minute]) -> None:
        """Write the figures of minutes only this run wrote, from its own sums."""
        rows: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
        deletes: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
        for t, minute in minutes:
            day = minute // DAY_US
            figures = self._sums.figures((t, minute))
            if figures is None:
                deletes[(t, day)].append((t, day, minute))
            else:
                rows[(t, day)].append((t, day, minute, *figures))
        await asyncio.gather(
            *(self._batched(self._prepared["minute"], group) for group in rows.values()),
            *(self._batched(self._prepared["del_minute"], group) for group in deletes.values()),
        )

    async def _roll_minutes(self, tag: str, minutes: list[int]) -> None:
        """Recompute some minutes of one partition from one range read of its raw rows."""
        lo, hi = min(minutes), max(minutes) + MINUTE
        per_minute: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for r in await self._read("range", (tag, self._bucket(lo), lo, hi)):
            if r.value is not None and r.quality != int(Quality.BAD):
                per_minute[r.ts // MINUTE * MINUTE].append((r.ts, r.value))
        deletes, rows = [], []
        for minute in sorted(set(minutes)):
            day = minute // DAY_US
            good = per_minute.get(minute)
            if not good:
                deletes.append((tag, day, minute))
                continue
            values = [v for _, v in good]
            rows.append((tag, day, minute, min(values), max(values), sum(values), len(values), max(good)[1]))
        await self._batched(self._prepared["minute"], rows)
        await self._batched(self._prepared["del_minute"], deletes)

    async def _batched(self, statement: PreparedStatement, rows: list[tuple[Any, ...]]) -> None:
        """Rows of one partition, in unlogged batches, several in flight."""
        requests = []
        for i in range(0, len(rows), _BATCH_ROWS):
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            batch.is_idempotent = True
            for row in rows[i : i + _BATCH_ROWS]:
                batch.add(statement, row)
            requests.append(self._bounded(batch, ()))
        await asyncio.gather(*requests)

    async def _roll_hour(self, tag: str, hour: int) -> None:
        found = await self._read("hour_sums", (tag, hour // DAY_US, hour, hour + HOUR))
        r = found[0] if found else None
        if r is None or not r.n:
            await self._bounded(self._prepared["del_hour"], (tag, _year(hour), hour))
            return
        await self._bounded(self._prepared["hour"], (tag, _year(hour), hour, r.mn, r.mx, r.sm, r.n, r.last))

    # reading ----------------------------------------------------------------------------------
    async def _partitions(self, tag: str) -> list[int]:
        """The tag's partition buckets, newest first."""
        return [row.bucket for row in await self._read("buckets", (tag,))]

    async def raw(self, tag: str, start: datetime, end: datetime, limit: int | None = None) -> list[Sample]:
        lo, hi = to_us(start), to_us(end)
        result: list[Sample] = []
        for bucket in sorted(b for b in await self._partitions(tag) if b < hi and b + self._span > lo):
            for r in await self._read("range_asc", (tag, bucket, lo, hi)):
                value = math.nan if r.value is None else r.value
                result.append(Sample(tag, from_us(r.ts), value, Quality(r.quality), None, r.status))
                if limit is not None and len(result) >= limit:
                    return result
        return result

    async def latest(self, tag: str) -> Sample | None:
        for bucket in await self._partitions(tag):
            rows = await self._read("newest", (tag, bucket))
            if rows:
                r = rows[0]
                value = math.nan if r.value is None else r.value
                return Sample(tag, from_us(r.ts), value, Quality(r.quality), None, r.status)
        return None

    async def last_good_timestamp(self, tag: str) -> datetime | None:
        for bucket in await self._partitions(tag):
            for r in await self._read("scan", (tag, bucket)):
                if r.quality != int(Quality.BAD):
                    return from_us(r.ts)
        return None

    async def downsampled(self, tag: str, start: datetime, end: datetime, max_points: int) -> list[Bucket]:
        span = query_span(start, end, max_points)
        if span is None:
            return []
        lo, hi = span
        await self._roll(tag)
        period, origin, width = bucket_plan(lo, hi, max_points)
        if period is not None:
            return _aggregate(await self._rolled(tag, period, origin, hi), origin, width)
        raw = await self.raw(tag, start, end)
        good = [
            (to_us(s.ts), s.value) for s in raw if s.quality is not Quality.BAD and not math.isnan(s.value)
        ]
        return _aggregate(((ts, v, v, v, 1, v) for ts, v in good), lo, width)

    async def _rolled(
        self, tag: str, period: int, lo: int, hi: int
    ) -> list[tuple[int, float, float, float, int, float]]:
        if period == MINUTE:
            name, keys = "minutes", range(lo // DAY_US, (hi - 1) // DAY_US + 1)
        else:
            name, keys = "hours", range(_year(lo), _year(hi - 1) + 1)
        chunks = await asyncio.gather(*(self._read(name, (tag, key, lo, hi)) for key in keys))
        rows = [(r.bucket, r.min, r.max, r.sum, r.count, r.last) for chunk in chunks for r in chunk]
        return sorted(rows)

    async def purge(self, before: datetime) -> int:
        """Delete samples older than ``before`` (the TTL does it too; this is for explicit retention)."""
        limit = to_us(before)
        deleted = 0
        for row in await self._read("tags", ()):
            tag = row.tag
            for bucket in await self._partitions(tag):
                if bucket >= limit:
                    continue
                count = (await self._read("count_before", (tag, bucket, limit)))[0].n
                if count:
                    deleted += count
                    await self._bounded(self._prepared["delete_before"], (tag, bucket, limit))
                if bucket + self._span <= limit:
                    await self._bounded(self._prepared["delete_bucket"], (tag, bucket))
                    self._known.discard((tag, bucket))
            minutes = {(tag, m) for m in range(limit // MINUTE * MINUTE - HOUR, limit + MINUTE, MINUTE)}
            self._sums.spoil(tag, limit + MINUTE)
            await self._mark(minutes)  # the boundary's roll-ups are recomputed from what is left
        return deleted


def _aggregate(
    rows: Iterable[tuple[int, float, float, float, int, float]], origin: int, width: int
) -> list[Bucket]:
    """Fold rows (start, min, max, sum, count, last), oldest first, into buckets of ``width``."""
    out: list[Bucket] = []
    current = -1
    mn = mx = sm = last = 0.0
    n = 0
    for start, rmin, rmax, rsum, rcount, rlast in rows:
        index = (start - origin) // width
        if index != current:
            if n:
                out.append(Bucket(from_us(origin + current * width), mn, mx, sm / n, last, n))
            current, mn, mx, sm, n = index, rmin, rmax, 0.0, 0
        mn, mx = min(mn, rmin), max(mx, rmax)
        sm += rsum
        n += rcount
        last = rlast
    if n:
        out.append(Bucket(from_us(origin + current * width), mn, mx, sm / n, last, n))
    return out
