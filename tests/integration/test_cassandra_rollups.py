"""The Cassandra historian's roll-ups stay exact while samples keep arriving."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cassandra.cluster import Cluster

from core.model import Sample
from core.storage.base import to_us as _us
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
        roll_hour = historian._roll_hour

        async def held(*args: Any) -> None:  # the minute's raw rows are read; its hour is next
            read.set()
            await release.wait()
            await roll_hour(*args)

        historian._roll_hour = held  # type: ignore[method-assign]
        rolling = asyncio.create_task(historian._roll("a.level"))
        await asyncio.wait_for(read.wait(), 60)
        await historian.write([Sample("a.level", T0 + timedelta(seconds=30), 100.0)])
        release.set()
        await rolling
        historian._roll_hour = roll_hour  # type: ignore[method-assign]

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
    historian = CassandraHistorian(settings, 3650, tmp_path / "spool.db")
    await historian.start()
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


def rolled_minutes(node: CassandraNode, keyspace: str, tag: str) -> dict[int, int]:
    """The minute roll-ups of ``tag`` in Cassandra, read with the bare driver: minute -> count."""
    cluster = Cluster(["127.0.0.1"], port=node.port, protocol_version=5)
    try:
        rows = cluster.connect(keyspace).execute(
            "SELECT bucket, count FROM rollup_1m WHERE tag = %s ALLOW FILTERING", (tag,)
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
    ours = CassandraHistorian(settings, 3650, tmp_path / "ours.db")
    theirs = CassandraHistorian(settings, 3650, tmp_path / "theirs.db")
    await ours.start()
    await theirs.start()
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
