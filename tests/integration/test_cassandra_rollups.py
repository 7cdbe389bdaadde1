"""The Cassandra historian's roll-ups stay exact while samples keep arriving."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cassandra.cluster import Cluster

from core.config.schema import Cassandra
from core.model import Bucket, Sample
from core.model import to_us as _us
from core.storage.cassandra import CassandraHistorian
from tests.conftest import eventually
from tests.integration.conftest import CassandraNode, cassandra_settings

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


@pytest.mark.cassandra
async def test_a_sample_written_while_its_minute_is_rolled_up_is_counted(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    """A roll-up reads the minute's raw rows, writes its figures, then forgets the minute: a
    sample stored in between must keep the minute to do, or the trend misses it for good."""
    historian = CassandraHistorian(cassandra_settings(cassandra_node), 3650, tmp_path / "spool.db")
    await historian.start()
    try:
        await historian.write([Sample("a.level", T0 + timedelta(seconds=i), float(i)) for i in range(10)])
        read, release = asyncio.Event(), asyncio.Event()
        roll_hour = historian._rollups._roll_hour

        async def held(*args: Any) -> None:  # the minute's raw rows are read; its hour is next
            read.set()
            await release.wait()
            await roll_hour(*args)

        historian._rollups._roll_hour = held  # type: ignore[method-assign]
        rolling = asyncio.create_task(historian._rollups.roll("a.level"))
        await asyncio.wait_for(read.wait(), 60)
        await historian.write([Sample("a.level", T0 + timedelta(seconds=30), 100.0)])
        release.set()
        await rolling
        historian._rollups._roll_hour = roll_hour  # type: ignore[method-assign]

        (hour,) = await historian.downsampled("a.level", T0, T0 + timedelta(hours=2), 2)  # the hourly roll-up
        assert (hour.count, hour.max, hour.last) == (11, 100.0, 100.0)
    finally:
        await historian.stop()


@pytest.mark.cassandra
async def test_the_background_roll_up_waits_for_the_minute_to_end_and_a_query_does_not(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    """Live data is rolled up once a minute is over (a later sample, or its end passed), not at
    every batch while the minute fills; a trend asked for meanwhile still shows the open minute."""
    settings = cassandra_settings(cassandra_node)
    historian = await started(settings, tmp_path / "spool.db")
    try:
        now = datetime.now(UTC)
        open_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=10)  # ends in 10 minutes
        await historian.write([Sample("b.level", T0 + timedelta(seconds=i), float(i)) for i in range(5)])
        await historian.write([Sample("b.level", open_minute, 7.0)])
        # the past minute is rolled up by the background task; the open one is left to its end
        await eventually(
            lambda: rolled_minutes(cassandra_node, settings.keyspace, "b.level"), 30, "a roll-up"
        )
        assert rolled_minutes(cassandra_node, settings.keyspace, "b.level") == {_us(T0): 5}
        (bucket,) = await historian.downsampled("b.level", open_minute, open_minute + timedelta(hours=1), 1)
        assert (bucket.count, bucket.last) == (1, 7.0)  # the query rolled its tag's open minute itself
        assert rolled_minutes(cassandra_node, settings.keyspace, "b.level") == {
            _us(T0): 5,
            _us(open_minute): 1,
        }
    finally:
        await historian.stop()


def rolled_minutes(node: CassandraNode, keyspace: str, tag: str, table: str = "rollup_1m") -> dict[int, int]:
    """The minute (or hour) roll-ups of ``tag`` in Cassandra, read with the bare driver:
    start -> count."""
    cluster = Cluster(["127.0.0.1"], port=node.port, protocol_version=5)
    try:
        rows = cluster.connect(keyspace).execute(
            f"SELECT bucket, count FROM {table} WHERE tag = %s ALLOW FILTERING", (tag,)
        )
        return {row.bucket: row.count for row in rows}
    finally:
        cluster.shutdown()


@pytest.mark.cassandra
async def test_a_minute_another_server_also_wrote_is_rolled_up_from_every_sample(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    """Samples a redundant server wrote in the same minute, and one written twice, are each in
    the trend exactly once, whichever server rolls the minute up last (a roll-up summed from what
    one server wrote fails this)."""
    settings = cassandra_settings(cassandra_node)
    ours = await started(settings, tmp_path / "ours.db")
    theirs = await started(settings, tmp_path / "theirs.db")
    try:
        t0 = T0 + timedelta(days=3)
        mine = [Sample("r.level", t0 + timedelta(seconds=i), float(i)) for i in range(0, 60, 2)]
        other = [Sample("r.level", t0 + timedelta(seconds=i), float(i)) for i in range(1, 60, 2)]
        await ours.write(mine)
        await ours.write(mine[:5])  # a client's retry: the same samples again
        await theirs.write(other)
        (minute,) = await ours.downsampled("r.level", t0, t0 + timedelta(hours=1), 60)
        assert (minute.count, minute.min, minute.max, minute.last) == (60, 0, 59, 59)
        assert minute.avg == sum(range(60)) / 60
        mine_only = [Sample("r.flow", t0 + timedelta(seconds=i), 2.0 * i) for i in range(60)]
        await ours.write(mine_only)
        (alone,) = await ours.downsampled("r.flow", t0, t0 + timedelta(hours=1), 60)
        assert (alone.count, alone.max, alone.last) == (60, 118, 118)
    finally:
        await theirs.stop()
        await ours.stop()


async def started(settings: Cassandra, spool: Path) -> CassandraHistorian:
    historian = CassandraHistorian(settings, 3650, spool)
    await historian.start()
    return historian


async def one_minute(historian: CassandraHistorian, tag: str, start: datetime) -> Bucket:
    """The minute from ``start``, downsampled through the roll-ups as a trend asks for it."""
    (minute,) = await historian.downsampled(tag, start, start + timedelta(minutes=1), 1)
    return minute


def minute_of(tag: str, t0: datetime, seconds: Iterable[int], value: float = 1.0) -> list[Sample]:
    return [Sample(tag, t0 + timedelta(seconds=s), value + s) for s in seconds]


def counting_reads(historian: CassandraHistorian) -> Counter[str]:
    """Count the historian's reads by statement name from now on."""
    reads: Counter[str] = Counter()
    read = historian.read

    async def counted(name: str, args: Any) -> list[Any]:
        reads[name] += 1
        return await read(name, args)

    historian.read = counted  # type: ignore[method-assign]
    return reads


@pytest.mark.cassandra
async def test_a_minute_only_this_run_wrote_is_rolled_up_without_reading_it_back(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    """Reading a minute's rows back costs Cassandra more than writing them: the sole writer of a
    minute rolls it up from what it wrote, a re-sent sample counted once."""
    settings = cassandra_settings(cassandra_node)
    historian = await started(settings, tmp_path / "spool.db")
    try:
        reads = counting_reads(historian)
        await historian.write(minute_of("s.level", T0, range(0, 40)))
        await historian.write(minute_of("s.level", T0, range(30, 60)))  # a station re-sends ten
        (minute,) = await historian.downsampled("s.level", T0, T0 + timedelta(hours=1), 60)
        assert (minute.count, minute.min, minute.max, minute.last) == (60, 1, 60, 60)
        assert minute.avg == sum(range(1, 61)) / 60
        assert reads["range"] == 0 and reads["writers"] == 1
        assert rolled_minutes(cassandra_node, settings.keyspace, "s.level") == {_us(T0): 60}
        # a late sample into the minute, once it is over and dropped here, is read back with it
        await historian.write(minute_of("s.level", T0, [61]))
        await historian._rollups.roll(None)
        await historian.write(minute_of("s.level", T0, [59.5]))  # type: ignore[list-item]
        minute = await one_minute(historian, "s.level", T0)
        assert (minute.count, minute.max) == (61, 60.5) and reads["range"] == 1
    finally:
        await historian.stop()


async def killed(historian: CassandraHistorian) -> None:
    """What a SIGKILL leaves: no roll-up at the stop, the spool file as it was."""
    tasks = [*historian._tasks, historian._watchdog]
    for task in tasks:
        assert task is not None
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert historian._cluster is not None and historian._spool is not None
    historian._cluster.shutdown()
    historian._spool.close()


@pytest.mark.cassandra
async def test_minutes_a_killed_run_wrote_are_rolled_up_from_every_sample_after_a_restart(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    """A server killed mid-minute starts again on the same spool: its earlier run's samples are
    not in the new run's sums, so that minute is read back; and a minute whose samples were
    stored just before the kill is still to roll up (it was marked before they were written)."""
    settings = cassandra_settings(cassandra_node)
    first = CassandraHistorian(settings, 3650, tmp_path / "spool.db")
    first._roll_loop = asyncio.Event().wait  # type: ignore[method-assign]
    await first.start()
    await first.write(minute_of("k.flow", T0, range(0, 30)))
    await first.write(minute_of("k.level", T0, range(0, 30)))
    await first._rollups.roll("k.level")  # rolled up, then more samples arrive
    stored = asyncio.Event()
    written, mark = first._rollups._sums.written, first._rollups.mark

    def store(minutes: Any, rows: Any) -> None:
        written(minutes, rows)
        stored.set()

    async def mark_or_die(minutes: set[tuple[str, int]]) -> None:
        if stored.is_set():
            await asyncio.Event().wait()  # killed right after Cassandra took the rows
        await mark(minutes)

    first._rollups._sums.written = store  # type: ignore[method-assign]
    first._rollups.mark = mark_or_die  # type: ignore[method-assign]
    writing = asyncio.create_task(first.write(minute_of("k.level", T0, range(30, 40))))
    await asyncio.wait_for(stored.wait(), 60)
    writing.cancel()
    await asyncio.gather(writing, return_exceptions=True)
    await killed(first)

    again = await started(settings, tmp_path / "spool.db")
    try:
        await again.write(minute_of("k.flow", T0, range(30, 60)))
        flow = await one_minute(again, "k.flow", T0)
        assert flow.count == 60
        level = await one_minute(again, "k.level", T0)
        assert (level.count, level.last) == (40, 40)
    finally:
        await again.stop()


@pytest.mark.cassandra
async def test_a_keyspace_written_before_writer_markers_reads_its_older_minutes_back(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    """Upgrading a site: samples written by the version without writer markers are in a minute
    the new version then writes into; its roll-up counts both."""
    settings = cassandra_settings(cassandra_node)
    old = await started(settings, tmp_path / "old.db")
    await old.write(minute_of("u.level", T0, range(0, 30)))
    await old.stop()
    cluster = Cluster(["127.0.0.1"], port=cassandra_node.port, protocol_version=5)
    try:  # the keyspace as the version 1 schema left it
        session = cluster.connect(settings.keyspace)
        session.execute("DROP TABLE hour_writers")
        session.execute("ALTER TABLE schema_version DROP markers_since")
        session.execute("INSERT INTO schema_version (id, version) VALUES (0, 1)")
    finally:
        cluster.shutdown()
    new = await started(settings, tmp_path / "new.db")
    try:
        await new.write(minute_of("u.level", T0, range(30, 60)))
        minute = await one_minute(new, "u.level", T0)
        assert minute.count == 60
        later = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2)
        reads = counting_reads(new)
        await new.write(minute_of("u.level", later, range(0, 10)))
        fresh = await one_minute(new, "u.level", later)
        assert fresh.count == 10 and reads["range"] == 0  # minutes after the upgrade: summed
    finally:
        await new.stop()


@pytest.mark.cassandra
async def test_another_writer_named_on_a_later_page_of_the_hour_is_seen(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    """Which runs wrote an hour is read page after page: the other server's mark for the tag
    on the last page still sends the minute to its raw rows."""
    settings = cassandra_settings(cassandra_node)
    ours = await started(settings, tmp_path / "ours.db")
    theirs = await started(settings, tmp_path / "theirs.db")
    try:
        assert ours._session is not None
        ours._session.default_fetch_size = 5  # 27 writer rows in the hour: six pages
        t0 = T0 + timedelta(days=5)
        await ours.write([Sample(f"a{i:02}.level", t0, 1.0) for i in range(25)])
        await ours.write(minute_of("z.level", t0, range(0, 60, 2)))
        await theirs.write(minute_of("z.level", t0, range(1, 60, 2)))
        minute = await one_minute(ours, "z.level", t0)
        assert minute.count == 60
    finally:
        await theirs.stop()
        await ours.stop()


def rolled_hours(node: CassandraNode, keyspace: str, tag: str) -> dict[int, int]:
    return rolled_minutes(node, keyspace, tag, "rollup_1h")


@pytest.mark.cassandra
async def test_an_hour_is_rolled_up_once_over_and_a_kill_before_it_leaves_it_to_do(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    """An hour's roll-up waits for the hour to be over (or a minute at most), not redone at every
    minute; a server killed between a minute's roll-up and its hour's does the hour after its
    restart."""
    settings = cassandra_settings(cassandra_node)
    first = CassandraHistorian(settings, 3650, tmp_path / "spool.db")
    first._roll_loop = asyncio.Event().wait  # type: ignore[method-assign]
    await first.start()
    await first.write(minute_of("h.level", T0, range(0, 120)))  # two minutes of T0's hour
    await first._rollups.roll(None, closed_only=True)  # the first minute is over; the hour is not
    assert rolled_minutes(cassandra_node, settings.keyspace, "h.level") == {_us(T0): 60}
    assert rolled_hours(cassandra_node, settings.keyspace, "h.level") == {}
    await killed(first)

    again = await started(settings, tmp_path / "spool.db")
    try:  # the tag is quiet: its minutes and hour are over, rolled up by the background task
        await eventually(
            lambda: rolled_hours(cassandra_node, settings.keyspace, "h.level"), 60, "the hour's roll-up"
        )
        assert rolled_hours(cassandra_node, settings.keyspace, "h.level") == {_us(T0): 120}
        next_hour = T0 + timedelta(hours=1)
        await again.write(minute_of("h.level", next_hour, range(0, 10)))  # closes T0's hour at once
        (hour,) = await again.downsampled("h.level", next_hour, next_hour + timedelta(hours=2), 2)
        assert hour.count == 10
    finally:
        await again.stop()
