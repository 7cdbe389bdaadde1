"""The Cassandra historian, with a local store-and-forward spool.

With ``cassandra_session.py`` (the connection), ``cassandra_rollups.py`` (what to recompute of
the roll-ups, and from what) and ``cassandra_journal.py`` (the alarm journal's shared tables),
the only cassandra-driver importers.

Data model (keyspace and replication from ``storage.cassandra``):
- ``samples``: partition ``(tag, bucket)`` where a bucket is ``partition_hours`` long (a day at
  1 Hz is 86,400 rows, under the ~100k a partition should hold), clustered by time descending
  (the newest first, as ``latest`` wants), TimeWindowCompactionStrategy, and a TTL from
  ``retention_days``. Timestamps are integer microseconds, exactly as the SQLite backend keeps them.
- ``rollup_1m`` and ``rollup_1h``: min/max/sum/count/last per minute and per hour, so that a
  year of one tag is read as 8,760 rows: made by ``cassandra_rollups.py``, from this run's own
  sums of a minute when it is the minute's only writer, else from the minute's raw rows; an
  hour summed by Cassandra from its minutes. A background task rolls each minute up once it is
  over, and a downsampled query rolls its tag's minutes and hours first.
- ``hour_writers``: partition ``hour``, which writers (one id per historian start) wrote
  samples of which tag in that hour; written before the samples.
- ``tag_buckets``: which partitions each tag has, for raw reads, ``latest`` and purges.

Writes use prepared, idempotent statements grouped per partition into unlogged batches, many
in flight at once (bounded). When Cassandra cannot take a write, the samples go to the spool
(``core/storage/spool.py``) and the write counts as durable. They are replayed oldest first
once Cassandra answers, while new samples keep flowing. Nothing is lost, and nothing is
duplicated, because a sample's key is (tag, time).

Every request, write or read, is sent without a waiting thread, under one bound on those in
flight, and a watchdog fails any whose answer is overdue.

A node answers a write once it is in its commit log, which it syncs to disk only every
``commitlog_sync_period`` (periodic sync, 10 s by default): a node killed before the next sync
comes back without the writes it had answered (2,000 acknowledged samples were lost so). So the
rows answered in the last ``commitlog_sync_s`` (plus one request timeout) are kept in memory, and
the moment a write fails or the driver sees a node go down, they go to the spool, to be written
again once the node is back (upserts of the same keys: nothing is duplicated). With ``batch`` or
``group`` sync, or a replication that survives a node, set it to 0.

Why one file: the write path, the spool's forwarding and replay and the reads share one
session, one bound on the requests in flight and the spool; the connection, the roll-ups and
the journal's tables are apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from cassandra import InvalidRequest
from cassandra.cluster import Cluster, ResponseFuture, Session
from cassandra.policies import HostStateListener
from cassandra.query import BatchStatement, BatchType, PreparedStatement

from core.config.schema import Cassandra
from core.model import Bucket, Quality, Sample, from_us, to_us, utcnow
from core.storage.base import DAY_US, HOUR_US, MINUTE_US, StorageError, bucket_plan, query_span
from core.storage.cassandra_rollups import BATCH_ROWS, RollUps, year_of
from core.storage.cassandra_session import connect
from core.storage.spool import Spool, SpooledRow, SpoolFull

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

MINUTE, HOUR = MINUTE_US, HOUR_US
SCHEMA_VERSION = 2  # 2: hour_writers, schema_version.markers_since
_REPLAY_CHUNK = 20_000  # samples per replay round: enough requests to fill max_in_flight
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
        self._rollups: RollUps | None = None  # made at start, on the spool
        self._prepared: dict[str, PreparedStatement] = {}
        self.replayed = 0
        self.written_rows = 0  # samples written into Cassandra, directly or replayed from the spool
        # rows Cassandra answered that its commit log may not hold on disk yet: (loop time, rows)
        self._unsynced: deque[tuple[float, Sequence[SpooledRow]]] = deque()
        self._unsynced_s = (
            settings.commitlog_sync_s + settings.timeout_s if settings.commitlog_sync_s else 0.0
        )
        self.rewritten = 0  # answered rows written again after a node was lost

    # life cycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._in_flight = asyncio.Semaphore(self.settings.max_in_flight)
        self._spool = await self.spooled(Spool, self.spool_path, self.settings.spool_max_samples)
        self._rollups = RollUps(self, self._spool, await self.spooled(self._spool.marked))
        try:
            await self._blocking(self._connect)
        except Exception as err:  # the server keeps running on the spool until Cassandra answers
            _LOGGER.error("Cassandra %s unreachable at start: %s; samples are spooled", self._where(), err)
        if self._spool.size:
            _LOGGER.warning("%d samples waiting in the spool %s", self._spool.size, self.spool_path)
        self._tasks = [
            asyncio.create_task(self._forward(), name="cassandra-forward"),
            asyncio.create_task(self._roll_loop(), name="cassandra-rollups"),
        ]
        self._watchdog = asyncio.create_task(self._expire(), name="cassandra-watchdog")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._up and self._rollups is not None:
            try:
                await self._rollups.roll(None)
            except Exception as err:
                _LOGGER.warning("roll-ups left to the next start: %s", err)
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        if self._cluster is not None:
            await self._blocking(self._cluster.shutdown)
        if self._spool is not None:
            await self.spooled(self._spool.close)
        self._io.shutdown(wait=True)
        self._spooler.shutdown(wait=True)

    def _where(self) -> str:
        return f"{','.join(self.settings.contact_points)}:{self.settings.port}"

    def _connect(self) -> None:
        """Connect, create or migrate the schema, prepare the statements (blocking)."""
        s = self.settings
        cluster, session = connect(s, self._password)
        try:
            since = self._migrate(session)
            if self._rollups is not None:
                self._rollups.markers_since = since
        except Exception:
            cluster.shutdown()
            raise
        if self._cluster is not None:
            self._cluster.shutdown()
        loop = self._loop
        if loop is not None:

            def down() -> None:
                loop.call_soon_threadsafe(self._host_down)

            cluster.register_listener(_NodeWatch(down))
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

    async def spooled(self, call: Callable[..., T], *args: Any) -> T:
        """Run a spool call on the spool's own thread."""
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
                    waiting[future] = loop.time() + due  # each page has its time (a clock read only)
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

    def bucket(self, us: int) -> int:
        """The partition bucket of a time (µs)."""
        return us - us % self._span

    def statement(self, name: str) -> PreparedStatement:
        return self._prepared[name]

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
            "rewritten": float(self.rewritten),
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
            await self.spooled(self._spool.append, list(samples))
        except SpoolFull as err:
            _LOGGER.error("%s: samples refused until Cassandra answers again", err)
            raise StorageError(str(err)) from err

    def _lost(self, err: BaseException) -> None:
        if self._up:
            _LOGGER.error(
                "Cassandra %s write failed (%s): spooling to %s", self._where(), err, self.spool_path
            )
        self._up = False
        self._node_lost()

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
            bucket = self.bucket(us)
            partitions[(tag, bucket)].append((tag, bucket, us, value, quality, status))
            minutes.add((tag, us // MINUTE * MINUTE))
            if us > newest.get(tag, -1):
                newest[tag] = us
        requests: list[Any] = []
        for rows in partitions.values():
            for i in range(0, len(rows), BATCH_ROWS):
                chunk = rows[i : i + BATCH_ROWS]
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
        rollups = self._rollups
        assert rollups is not None
        await rollups.before(minutes)  # marked to do and claimed first: a crash leaves none stale
        try:
            await asyncio.gather(*(self.send(statement, args) for statement, args in requests))
        except BaseException:
            rollups.failed(minutes)
            raise
        self._known.update(new)
        self._answered(spooled)
        await rollups.after(minutes, spooled, newest)

    def _answered(self, rows: Sequence[SpooledRow]) -> None:
        """Keep ``rows`` while the node's commit log may not hold them on disk yet."""
        if not self._unsynced_s:
            return
        assert self._loop is not None
        now, window = self._loop.time(), self._unsynced
        window.append((now, rows))
        while window and window[0][0] < now - self._unsynced_s:
            window.popleft()

    def _node_lost(self) -> None:
        """A write failed or a node went down: what it answered but may not have synced goes to
        the spool, so that it is written again once the node is back."""
        if not self._unsynced or self._spool is None:
            return
        rows = [row for _at, batch in self._unsynced for row in batch]
        self._unsynced.clear()
        self.rewritten += len(rows)
        _LOGGER.warning("Cassandra %s lost: the %d samples it answered in the last %.0f s are written again "
                        "once it is back (its commit log syncs every %.0f s)", self._where(), len(rows),
                        self._unsynced_s, self.settings.commitlog_sync_s)  # fmt: skip
        rewriting = asyncio.ensure_future(self.spooled(self._spool.append_rows, rows))
        rewriting.add_done_callback(_said_if_failed)

    def _host_down(self) -> None:
        """The driver saw a node go down (a kill, a crash), maybe between two writes."""
        if self._up:
            _LOGGER.warning("Cassandra %s: a node is down", self._where())
        self._node_lost()

    async def send(self, statement: Any, args: Sequence[Any]) -> None:
        """One request under the bound on those in flight; its answer awaited."""
        assert self._in_flight is not None
        async with self._in_flight:
            await self._execute(statement, args)

    async def read(self, name: str, args: Sequence[Any]) -> list[Any]:
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
        last, chunk = await self.spooled(self._spool.oldest, _REPLAY_CHUNK)
        while chunk:
            following = asyncio.ensure_future(self.spooled(self._spool.oldest, _REPLAY_CHUNK, last))
            try:
                await self._insert_rows(chunk)
            except BaseException:
                following.cancel()
                raise
            await self.spooled(self._spool.forget, last)
            self.replayed += len(chunk)
            self.written_rows += len(chunk)
            next_last, chunk = await following
            last = next_last or last
        _LOGGER.info("spool drained: %d samples replayed into Cassandra", self.replayed)

    # roll-ups ---------------------------------------------------------------------------------
    async def _roll_loop(self) -> None:
        """Roll up each minute once it is over, not at every batch while it fills: a query
        rolls its tag's open minutes itself, and the stop rolls everything left."""
        while True:
            await asyncio.sleep(1.0)
            if self._up and self._rollups is not None:
                try:
                    await self._rollups.roll(None, closed_only=True)
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    _LOGGER.warning("roll-ups postponed: %s", err)

    # reading ----------------------------------------------------------------------------------
    async def _partitions(self, tag: str) -> list[int]:
        """The tag's partition buckets, newest first."""
        return [row.bucket for row in await self.read("buckets", (tag,))]

    async def raw(self, tag: str, start: datetime, end: datetime, limit: int | None = None) -> list[Sample]:
        lo, hi = to_us(start), to_us(end)
        result: list[Sample] = []
        for bucket in sorted(b for b in await self._partitions(tag) if b < hi and b + self._span > lo):
            for r in await self.read("range_asc", (tag, bucket, lo, hi)):
                value = math.nan if r.value is None else r.value
                result.append(Sample(tag, from_us(r.ts), value, Quality(r.quality), None, r.status))
                if limit is not None and len(result) >= limit:
                    return result
        return result

    async def latest(self, tag: str) -> Sample | None:
        for bucket in await self._partitions(tag):
            rows = await self.read("newest", (tag, bucket))
            if rows:
                r = rows[0]
                value = math.nan if r.value is None else r.value
                return Sample(tag, from_us(r.ts), value, Quality(r.quality), None, r.status)
        return None

    async def last_good_timestamp(self, tag: str) -> datetime | None:
        for bucket in await self._partitions(tag):
            for r in await self.read("scan", (tag, bucket)):
                if r.quality != int(Quality.BAD):
                    return from_us(r.ts)
        return None

    async def downsampled(self, tag: str, start: datetime, end: datetime, max_points: int) -> list[Bucket]:
        span = query_span(start, end, max_points)
        if span is None:
            return []
        lo, hi = span
        assert self._rollups is not None, "the Cassandra historian is not started"
        await self._rollups.roll(tag)
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
            name, keys = "hours", range(year_of(lo), year_of(hi - 1) + 1)
        chunks = await asyncio.gather(*(self.read(name, (tag, key, lo, hi)) for key in keys))
        rows = [(r.bucket, r.min, r.max, r.sum, r.count, r.last) for chunk in chunks for r in chunk]
        return sorted(rows)

    async def purge(self, before: datetime) -> int:
        """Delete samples older than ``before`` (the TTL does it too; this is for explicit retention)."""
        limit = to_us(before)
        deleted = 0
        for row in await self.read("tags", ()):
            tag = row.tag
            for bucket in await self._partitions(tag):
                if bucket >= limit:
                    continue
                count = (await self.read("count_before", (tag, bucket, limit)))[0].n
                if count:
                    deleted += count
                    await self.send(self._prepared["delete_before"], (tag, bucket, limit))
                if bucket + self._span <= limit:
                    await self.send(self._prepared["delete_bucket"], (tag, bucket))
                    self._known.discard((tag, bucket))
            assert self._rollups is not None
            await self._rollups.purged(tag, limit)  # the boundary's roll-ups are recomputed
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


class _NodeWatch(HostStateListener):  # type: ignore[misc]  # the driver is untyped
    """The driver's word that a node went down, from its own threads."""

    def __init__(self, down: Callable[[], None]) -> None:
        self.down = down

    def on_down(self, host: Any) -> None:
        self.down()

    def on_up(self, host: Any) -> None:
        pass

    def on_add(self, host: Any) -> None:
        pass

    def on_remove(self, host: Any) -> None:
        pass


def _said_if_failed(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        _LOGGER.error("answered samples not spooled again: %s", future.exception())
