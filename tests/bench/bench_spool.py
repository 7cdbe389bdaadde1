"""Spool replay benchmark: does the spool drain faster than acquisition fills it? (run by hand)

    .venv/bin/python tests/bench/bench_spool.py [samples]
    .venv/bin/python tests/bench/bench_spool.py resume

Starts a one-node Cassandra 5.0 (tests/peers/cassandra/node.py), then, in the same run and on
the same node, twice each:
- ingest: the historian fed as acquisition feeds it (batches of 1,000 samples from 100 tags,
  8 batches in flight), Cassandra up;
- replay: the same number of samples left in the spool by an outage (written to the spool
  file while the historian is stopped), drained by a historian started on it; timed from its
  start to an empty spool.
The failover issue asks for replay ≥ 2× ingest: the ratio printed is replay / ingest.
``resume`` measures how soon the historian resumes after Cassandra is back (the issue: within
5 s), against a bare driver session behind the same cut.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from core.config.schema import Cassandra  # noqa: E402
from core.storage.cassandra import CassandraHistorian  # noqa: E402
from core.storage.spool import Spool  # noqa: E402
from tests.bench.bench_cassandra import node_script, samples  # noqa: E402


async def ingest(port: int, keyspace: str, spool: Path, n: int) -> float:
    historian = CassandraHistorian(Cassandra(port=port, keyspace=keyspace, consistency="ONE"), 3650, spool)
    await historian.start()
    data = samples(n + 5_000)
    await historian.write(data[:5_000])  # warm-up: prepared statements, connections
    start = time.perf_counter()
    in_flight: set[asyncio.Future[None]] = set()
    for i in range(5_000, n + 5_000, 1_000):
        if len(in_flight) >= 8:
            _done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        in_flight.add(historian.submit(data[i : i + 1_000]))
    await asyncio.gather(*in_flight)
    elapsed = time.perf_counter() - start
    assert historian.metrics()["spool_samples"] == 0
    await historian.stop()
    return n / elapsed


async def replay(port: int, keyspace: str, spool_path: Path, n: int) -> float:
    # the connection is made once first (schema, prepared statements), as on a server that ran
    # before the outage; then the spool is filled as an outage fills it, 1,000 at a time
    warm = CassandraHistorian(Cassandra(port=port, keyspace=keyspace, consistency="ONE"), 3650, spool_path)
    await warm.start()
    await warm.stop()
    spool = Spool(spool_path, max_samples=10 * n)
    data = samples(n, offset=10_000_000)
    for i in range(0, n, 1_000):
        spool.append(data[i : i + 1_000])
    spool.close()
    historian = CassandraHistorian(
        Cassandra(port=port, keyspace=keyspace, consistency="ONE"), 3650, spool_path
    )
    start = time.perf_counter()
    await historian.start()
    while historian.metrics()["spool_samples"]:  # noqa: ASYNC110 - the drain has no event of its own
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    assert historian.replayed == n
    await historian.stop()
    return n / elapsed


async def resume(port: int, keyspace: str, spool_path: Path) -> tuple[float, float, float]:
    """Cassandra cut off (a TCP proxy refusing and dropping connections) while 20,000 samples
    are written; then it is back: seconds until the historian says Cassandra is up, until the
    spool is empty, and, in the same conditions, until a bare driver session answers again."""
    from cassandra.cluster import Cluster
    from cassandra.policies import ExponentialReconnectionPolicy

    from tests.integration.tcp_proxy import CuttableProxy

    proxy = CuttableProxy(port)
    await proxy.start()
    settings = Cassandra(port=proxy.port, keyspace=keyspace, consistency="ONE", timeout_s=2)
    historian = CassandraHistorian(settings, 3650, spool_path)
    await historian.start()
    bare = Cluster(["127.0.0.1"], port=proxy.port, protocol_version=5, connect_timeout=2,
                   reconnection_policy=ExponentialReconnectionPolicy(0.5, 2.0))  # fmt: skip
    session = await asyncio.to_thread(bare.connect)
    data = samples(25_000, offset=20_000_000)
    await historian.write(data[:5_000])
    proxy.block()
    for i in range(5_000, 25_000, 1_000):
        await historian.write(data[i : i + 1_000])  # into the spool
    while historian.metrics()["cassandra_up"]:  # noqa: ASYNC110 - no event for it
        await asyncio.sleep(0.05)
    await asyncio.sleep(10)  # an outage long enough for every backoff to reach its longest
    proxy.unblock()
    back = time.perf_counter()
    up = drained = driver = 0.0
    while not (up and drained and driver):
        await asyncio.sleep(0.02)
        now = time.perf_counter() - back
        if not up and historian.metrics()["cassandra_up"]:
            up = now
        if not drained and historian.metrics()["spool_samples"] == 0:
            drained = now
        if not driver:
            try:
                await asyncio.to_thread(session.execute, "SELECT now() FROM system.local", timeout=1)
                driver = time.perf_counter() - back
            except Exception:
                pass
    await historian.stop()
    bare.shutdown()
    await proxy.stop()
    return up, drained, driver


def main() -> None:
    if sys.argv[1:2] == ["resume"]:
        return main_resume()
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    script = node_script()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "node"
        port = script.start(directory)
        try:
            rates = []
            for run in range(2):
                live = asyncio.run(ingest(port, f"bench_ingest{run}", Path(tmp) / f"live{run}.db", n))
                drained = asyncio.run(replay(port, f"bench_replay{run}", Path(tmp) / f"spool{run}.db", n))
                rates.append((live, drained))
        finally:
            script.stop(directory)
    for live, drained in rates:
        print(f"ingest {live:10,.0f} samples/s   replay {drained:10,.0f} samples/s   "
              f"replay / ingest {drained / live:.2f}")  # fmt: skip


def main_resume() -> None:
    script = node_script()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "node"
        port = script.start(directory)
        try:
            runs = [
                asyncio.run(resume(port, f"bench_resume{run}", Path(tmp) / f"resume{run}.db"))
                for run in range(2)
            ]
        finally:
            script.stop(directory)
    for up, drained, driver in runs:
        print(
            f"Cassandra back: historian up after {up:.2f} s, spool empty after {drained:.2f} s; "
            f"a bare driver session answers after {driver:.2f} s (ratio up / bare {up / driver:.2f})"
        )


if __name__ == "__main__":
    main()
