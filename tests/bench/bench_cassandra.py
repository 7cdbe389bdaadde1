"""Cassandra historian benchmark (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_cassandra.py [samples]
    .venv/bin/python tests/bench/bench_cassandra.py live [tags] [seconds]

Starts a one-node Cassandra 5.0 (tests/peers/cassandra/node.py), its threads on one half of
the CPUs and this process on the other (``pin``), then, in the same run:
- sustained writes through the historian (batches of 1,000 samples from 100 tags, 8 batches
  in flight, as acquisition submits them), against the bare driver's ``execute_concurrent``
  sending the same requests (each block of 1,000 samples grouped by partition into unlogged
  batches of at most 64 rows, the same prepared insert, the same table shape) with the
  historian's 128 requests in flight, its rows made from the same samples inside its timing
  (the historian converts them inside its own); every run writes new samples, from an hour of
  its own (``samples``);
  and, for the split, the historian with its background roll-ups left to the end (the write
  path alone: the bare driver computes no roll-up);
- one year of one tag at one sample a minute (525,600 rows, roll-ups maintained), queried
  downsampled to 2,000 points through the hourly roll-up, against the same aggregation done
  from the raw rows.

``live`` feeds the historian as acquisition does on a live site: every tag once a second,
stamped now, for the given time, and counts the roll-up reads the historian makes and its
process CPU (what a server on Cassandra spends besides the writes themselves).
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from cassandra.cluster import Cluster  # noqa: E402
from cassandra.concurrent import execute_concurrent  # noqa: E402
from cassandra.query import BatchStatement, BatchType  # noqa: E402

from core.config.schema import Cassandra  # noqa: E402
from core.model import Sample, to_us  # noqa: E402
from core.storage.cassandra import CassandraHistorian  # noqa: E402

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def node_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("node", REPO / "tests" / "peers" / "cassandra" / "node.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


_written = 0  # samples made so far: each run writes a time range of its own, as a site does
_HOUR = 360_000  # samples in an hour, 10 ms apart


def samples(n: int) -> list[Sample]:
    """``n`` new samples of 100 tags, 10 ms apart, from the first hour after every sample made
    before in this run: writing the same rows again, or into an hour another historian also
    wrote, would make each minute one with several writers, read back (a restart's first hour)."""
    global _written
    offset = -(-_written // _HOUR) * _HOUR
    _written = offset + n
    return [
        Sample(f"bench.t{i % 100}", T0 + timedelta(milliseconds=10 * (i + offset)), float(i))
        for i in range(n)
    ]


async def through_historian(port: int, spool: Path, n: int, rollups: bool = True) -> float:
    settings = Cassandra(port=port, keyspace="bench_historian", consistency="ONE")
    historian = CassandraHistorian(settings, 3650, spool)
    if not rollups:  # the background roll-ups left to the stop, after the timing
        historian._roll_loop = asyncio.Event().wait  # type: ignore[method-assign]
    await historian.start()
    data = samples(n)
    await historian.write(data[:5_000])  # warm-up: prepared statements, connections
    start = time.perf_counter()
    in_flight: set[asyncio.Future[None]] = set()
    for i in range(5_000, n, 1_000):
        if len(in_flight) >= 8:
            _done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        in_flight.add(historian.submit(data[i : i + 1_000]))
    await asyncio.gather(*in_flight)
    elapsed = time.perf_counter() - start
    assert historian.metrics()["spool_samples"] == 0
    await historian.stop()
    return (n - 5_000) / elapsed


def batches(insert, rows):  # type: ignore[no-untyped-def]
    """The historian's requests, built with the bare driver: each 1,000-sample block (what one
    submit carries) grouped by partition into unlogged batches of at most 64 rows."""
    for i in range(0, len(rows), 1_000):
        partitions: dict[tuple[str, int], list[tuple[object, ...]]] = defaultdict(list)
        for row in rows[i : i + 1_000]:
            partitions[(row[0], row[1])].append(row)
        for group in partitions.values():
            for j in range(0, len(group), 64):
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for row in group[j : j + 64]:
                    batch.add(insert, row)
                yield batch, ()


def rows_of(data: list[Sample]) -> list[tuple[object, ...]]:
    """The samples as the historian binds them: partition bucket, µs, NaN as null."""
    day = 86_400_000_000
    out: list[tuple[object, ...]] = []
    for s in data:
        us = to_us(s.ts)
        out.append(
            (s.tag, us // day * day, us, None if math.isnan(s.value) else s.value, int(s.quality), s.status)
        )
    return out


def bare_driver(port: int, n: int) -> float:
    cluster = Cluster(["127.0.0.1"], port=port, protocol_version=5)
    session = cluster.connect("bench_historian")
    session.execute("CREATE TABLE IF NOT EXISTS bare (tag text, bucket bigint, ts bigint, value double, "
                    "quality tinyint, status bigint, PRIMARY KEY ((tag, bucket), ts)) WITH CLUSTERING ORDER BY (ts DESC)")  # fmt: skip
    insert = session.prepare(
        "INSERT INTO bare (tag, bucket, ts, value, quality, status) VALUES (?,?,?,?,?,?)"
    )
    data = samples(n)
    execute_concurrent(session, batches(insert, rows_of(data[:5_000])), concurrency=128)
    start = time.perf_counter()
    # the rows and batches made inside the timing from the same samples, as the historian must
    requests = batches(insert, rows_of(data[5_000:]))
    execute_concurrent(session, requests, concurrency=128, raise_on_first_error=True)
    elapsed = time.perf_counter() - start
    cluster.shutdown()
    return (n - 5_000) / elapsed


async def year_query(port: int, spool: Path) -> tuple[list[float], list[float], float]:
    settings = Cassandra(port=port, keyspace="bench_year", consistency="ONE")
    historian = CassandraHistorian(settings, 3650, spool)
    await historian.start()
    minutes = 365 * 24 * 60
    start = time.perf_counter()
    for i in range(0, minutes, 10_000):
        chunk = [
            Sample("year.level", T0 + timedelta(minutes=m), float(m % 997))
            for m in range(i, min(minutes, i + 10_000))
        ]
        await historian.write(chunk)
    await historian._rollups.roll(None)
    build = time.perf_counter() - start
    end = T0 + timedelta(days=365)
    rolled, raw = [], []
    for _ in range(10):
        t = time.perf_counter()
        buckets = await historian.downsampled("year.level", T0, end, 2_000)
        rolled.append(time.perf_counter() - t)
        assert 0 < len(buckets) <= 2_000 and sum(b.count for b in buckets) == minutes
    for _ in range(2):
        t = time.perf_counter()
        rows = await historian.raw("year.level", T0, end)
        width = (to_us(end) - to_us(T0)) // 2_000 + 1
        groups: dict[int, list[float]] = {}
        for s in rows:
            groups.setdefault((to_us(s.ts) - to_us(T0)) // width, []).append(s.value)
        _ = [(min(v), max(v), sum(v) / len(v)) for v in groups.values()]
        raw.append(time.perf_counter() - t)
    await historian.stop()
    return rolled, raw, build


async def live(port: int, spool: Path, tags: int, seconds: int) -> tuple[int, float]:
    """Every tag once a second, stamped now: roll-up reads made and process CPU, seconds."""
    historian = CassandraHistorian(
        Cassandra(port=port, keyspace="bench_live", consistency="ONE"), 3650, spool
    )
    await historian.start()
    reads = 0
    read = historian.read

    async def counted(name: str, args: object) -> object:
        nonlocal reads
        reads += 1
        return await read(name, args)  # type: ignore[arg-type]

    historian.read = counted  # type: ignore[assignment,method-assign]
    cpu, start = time.process_time(), time.monotonic()
    for second in range(seconds):
        now = datetime.now(UTC)
        await historian.write([Sample(f"live.t{i}", now, float(i)) for i in range(tags)])
        await asyncio.sleep(max(0.0, start + second + 1 - time.monotonic()))
    cpu = time.process_time() - cpu
    await historian.stop()
    return reads, cpu


def pin(directory: Path) -> str:
    """The node's threads on one half of the CPUs, this process's on the other.

    Sharing both cores, the node and the client took turns as the scheduler pleased: the same
    bare-driver run gave 33,861 and 45,872 samples/s minutes apart. Apart, each side has a core
    of its own and the ratio measures the two clients, not the scheduler."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return "not pinned: one CPU"
    half = len(cpus) // 2
    node, client = set(cpus[:half]), set(cpus[half:])
    pid = int((directory / "node.pid").read_text())
    for task in Path(f"/proc/{pid}/task").iterdir():  # every thread the JVM has started so far
        os.sched_setaffinity(int(task.name), node)
    for task in Path("/proc/self/task").iterdir():  # threads started later inherit it
        os.sched_setaffinity(int(task.name), client)
    return f"node on CPU {sorted(node)}, this process on CPU {sorted(client)}"


def main() -> None:
    script = node_script()
    if sys.argv[1:2] == ["live"]:
        tags = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
        seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 90
        with tempfile.TemporaryDirectory() as tmp:
            port = script.start(Path(tmp) / "node")
            try:
                reads, cpu = asyncio.run(live(port, Path(tmp) / "spool.db", tags, seconds))
            finally:
                script.stop(Path(tmp) / "node")
        print(f"{tags} tags at 1 Hz for {seconds} s: {reads} roll-up reads, historian process CPU {cpu:.1f} s "
              f"({cpu / seconds * 100:.1f} % of a core)")  # fmt: skip
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    rounds: list[tuple[float, float, float]] = []  # (bare, historian, write path alone)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "node"
        port = script.start(directory)
        print(pin(directory), flush=True)
        try:
            # the keyspace made and the node's JIT warmed on the same requests, then each round
            # times the three one after the other, so none always runs on the coldest node
            asyncio.run(through_historian(port, Path(tmp) / "warm.db", 20_000))
            bare_driver(port, n)
            for i in range(3):
                bare = bare_driver(port, n)
                ours = asyncio.run(through_historian(port, Path(tmp) / f"spool{i}.db", n))
                alone = asyncio.run(through_historian(port, Path(tmp) / f"alone{i}.db", n, rollups=False))
                rounds.append((bare, ours, alone))
                print(f"round {i + 1}: bare driver {bare:,.0f} samples/s, historian {ours:,.0f} ({ours / bare:.2f}), "
                      f"write path alone {alone:,.0f} ({alone / bare:.2f})", flush=True)  # fmt: skip
            rolled, raw, build = asyncio.run(year_query(port, Path(tmp) / "year.db"))
        finally:
            script.stop(directory)
    ratios = [ours / bare for bare, ours, _ in rounds]
    alone_ratios = [alone / bare for bare, _, alone in rounds]
    print(f"median of 3 rounds: bare driver {statistics.median(r[0] for r in rounds):,.0f} samples/s, "
          f"historian {statistics.median(r[1] for r in rounds):,.0f}, write path alone "
          f"{statistics.median(r[2] for r in rounds):,.0f}; historian / bare {statistics.median(ratios):.2f}, "
          f"write path alone / bare {statistics.median(alone_ratios):.2f}")  # fmt: skip
    print(f"year (525,600 rows) built with roll-ups in {build:.1f} s")
    print(f"year -> 2,000 points via roll-ups: median {statistics.median(rolled) * 1000:.1f} ms, "
          f"max {max(rolled) * 1000:.1f} ms; from raw rows: median {statistics.median(raw) * 1000:.0f} ms "
          f"({statistics.median(raw) / statistics.median(rolled):.0f}x slower)")  # fmt: skip


if __name__ == "__main__":
    main()
