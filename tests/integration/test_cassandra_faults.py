"""Cassandra stopped during sustained ingestion: samples are spooled, replayed, and stored exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cassandra.cluster import Cluster

from core.model import Sample, to_us
from core.storage.cassandra import CassandraHistorian
from tests.integration.conftest import CassandraNode, cassandra_settings

T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def stored(node: CassandraNode, keyspace: str, tag: str) -> tuple[int, float, set[int]]:
    """Count, checksum and keys of a tag's rows, read with the bare driver (not our code)."""
    cluster = Cluster(["127.0.0.1"], port=node.port, protocol_version=5)
    try:
        session = cluster.connect(keyspace)
        rows = list(
            session.execute("SELECT bucket, ts, value FROM samples WHERE tag = %s ALLOW FILTERING", (tag,))
        )
    finally:
        cluster.shutdown()
    return len(rows), sum(r.value for r in rows), {r.ts for r in rows}


async def ingest(
    historian: CassandraHistorian, tag: str, acknowledged: list[Sample], stop: asyncio.Event, pause: float
) -> None:
    """Batches of 50 samples until ``stop``; each one is acknowledged once ``write`` returns
    (in Cassandra, or in the spool), as a REST client's 200 is."""
    i = 0
    while not stop.is_set():
        batch = [Sample(tag, T0 + timedelta(milliseconds=10 * (i + k)), float(i + k)) for k in range(50)]
        await historian.write(batch)
        acknowledged.extend(batch)
        i += 50
        await asyncio.sleep(pause)


@pytest.mark.slow
@pytest.mark.cassandra
@pytest.mark.timeout(900)  # a hang guard sized for a node's stop and restart on a loaded PC
async def test_cassandra_outage_during_ingestion_loses_and_duplicates_nothing(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    settings = cassandra_settings(cassandra_node, timeout_s=2)
    historian = CassandraHistorian(settings, 3650, tmp_path / "spool.db")
    await historian.start()
    acknowledged: list[Sample] = []
    stop = asyncio.Event()
    writer = asyncio.create_task(ingest(historian, "a.probe", acknowledged, stop, 0.01))
    while len(acknowledged) < 2_000:  # noqa: ASYNC110 (a condition on a real peer)
        await asyncio.sleep(0.05)
    await asyncio.to_thread(cassandra_node.stop)
    while historian.metrics()["spool_samples"] < 1_000:  # noqa: ASYNC110 (still accepting, into the spool)
        await asyncio.sleep(0.05)
    assert historian.metrics()["cassandra_up"] == 0.0
    await asyncio.to_thread(cassandra_node.restart)
    deadline = asyncio.get_running_loop().time() + 600  # ends as soon as the spool is drained
    while asyncio.get_running_loop().time() < deadline:  # replayed while new samples keep coming
        await asyncio.sleep(0.1)
        if historian.metrics()["spool_samples"] == 0 and historian.metrics()["replayed"] > 0:
            break
    stop.set()
    await writer
    metrics = historian.metrics()
    await historian.stop()

    assert metrics["spool_samples"] == 0 and metrics["replayed"] >= 1_000
    count, checksum, keys = await asyncio.to_thread(stored, cassandra_node, settings.keyspace, "a.probe")
    assert count == len(acknowledged) == len({s.ts for s in acknowledged})
    assert checksum == sum(s.value for s in acknowledged)
    assert keys == {to_us(s.ts) for s in acknowledged}


@pytest.mark.slow
@pytest.mark.cassandra
@pytest.mark.timeout(900)
async def test_a_node_killed_under_load_loses_no_acknowledged_sample(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    """kill -9 of the only node, commit log synced every 10 s (Cassandra's default, and this
    node's): the node came back without the last seconds it had answered, 2,000 samples."""
    assert "commitlog_sync_period: 10000ms" in (cassandra_node.directory / "cassandra.yaml").read_text()
    settings = cassandra_settings(cassandra_node, timeout_s=2)
    historian = CassandraHistorian(settings, 3650, tmp_path / "spool.db")
    await historian.start()
    acknowledged: list[Sample] = []
    stop = asyncio.Event()
    writer = asyncio.create_task(ingest(historian, "a.kill", acknowledged, stop, 0.005))
    while len(acknowledged) < 5_000:  # noqa: ASYNC110 (a condition on a real peer)
        await asyncio.sleep(0.05)
    answered = len(acknowledged)
    await asyncio.to_thread(cassandra_node.kill)  # SIGKILL: what the commit log did not sync is gone
    while historian.metrics()["cassandra_up"] == 1.0:  # noqa: ASYNC110 (the loss seen by a write)
        await asyncio.sleep(0.05)
    await asyncio.to_thread(cassandra_node.restart)
    deadline = asyncio.get_running_loop().time() + 600
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        metrics = historian.metrics()
        if metrics["cassandra_up"] == 1.0 and metrics["spool_samples"] == 0 and metrics["replayed"] > 0:
            break
    stop.set()
    await writer
    metrics = historian.metrics()
    await historian.stop()

    assert metrics["rewritten"] > 0  # what the node had answered in its last seconds, written again
    count, checksum, keys = await asyncio.to_thread(stored, cassandra_node, settings.keyspace, "a.kill")
    lost = {to_us(s.ts) for s in acknowledged} - keys
    assert not lost, f"{len(lost)} acknowledged samples lost ({answered} answered before the kill)"
    assert count == len(acknowledged) and checksum == sum(s.value for s in acknowledged)


@pytest.mark.cassandra
async def test_a_request_whose_answer_is_lost_is_given_up_and_its_samples_spooled(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    """The driver times requests out itself, but an answer lost with its connection was once
    awaited forever, and the server's stop with it: such a write fails after a bounded wait, its
    samples go to the spool, and the historian still stops."""
    settings = cassandra_settings(cassandra_node, timeout_s=1)
    historian = CassandraHistorian(settings, 3650, tmp_path / "spool.db")
    await historian.start()
    try:
        session = historian._session
        assert session is not None

        class Lost:  # a request sent, whose answer never comes back
            has_more_pages = False

            def add_callbacks(self, *_: object) -> None:
                pass

        send = session.execute_async
        session.execute_async = lambda *_args, **_kw: Lost()  # type: ignore[method-assign]
        batch = [Sample("l.level", T0 + timedelta(seconds=i), float(i)) for i in range(10)]
        await asyncio.wait_for(historian.write(batch), 60)  # a hang guard, never reached when it works
        assert historian.metrics()["spool_samples"] == 10 and historian.metrics()["cassandra_up"] == 0.0
        session.execute_async = send  # type: ignore[method-assign]
        deadline = asyncio.get_running_loop().time() + 60
        while historian.metrics()["spool_samples"] and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        (minute,) = await historian.downsampled("l.level", T0, T0 + timedelta(minutes=1), 1)
        assert minute.count == 10
    finally:
        await asyncio.wait_for(historian.stop(), 60)
