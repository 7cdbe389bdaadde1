"""SQLite historian benchmarks (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_historian.py write   # sustained write rate vs raw sqlite3
    .venv/bin/python tests/bench/bench_historian.py year    # one year at 1 Hz, 2,000-bucket query

`write` pushes samples in batches of 1,000 through SQLiteHistorian, in two shapes: 1,000,000
samples of 100 tags, each batch ten seconds of them (a backfill or a replay), and 500,000 of
1,000 tags, each batch one second of them (live acquisition: one sample of each tag a batch).
In the same run the same batches go through raw `sqlite3.executemany` into the same samples
table with the historian's durability (WAL, ``synchronous=FULL``). Equal transaction sizes:
the historian is fed one batch at a time, each awaited until durable (as the REST API and the
MQTT link feed it, and as acquisition does whenever it does not outrun the disk), so each
batch is one 1,000-row transaction on both sides; the ratio is the figure that matters on a
noisy machine. For context only, the same batches submitted all at once, which the historian
group-commits (up to 50,000 rows a transaction), against raw 50,000-row transactions.

`year` writes 31.5 M samples of one tag through the historian (once; the file is kept in
$ECRETEUR_BENCH_DIR, default ~/.cache/ecreteur/bench) and times the downsampled query against a
plain GROUP BY over the raw rows.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.model import Sample, to_us
from core.storage.sqlite import SQLiteHistorian

T0 = datetime(2025, 1, 1, tzinfo=UTC)
BENCH_DIR = Path(os.environ.get("ECRETEUR_BENCH_DIR", Path.home() / ".cache" / "ecreteur" / "bench"))


def batches(total: int, tags: int, size: int) -> list[list[Sample]]:
    """Samples as live acquisition produces them: every tag advancing second by second."""
    out, batch = [], []
    for i in range(total):
        second, tag = divmod(i, tags)
        batch.append(Sample(f"s.tag{tag}", T0 + timedelta(seconds=second), float(i % 1000)))
        if len(batch) == size:
            out.append(batch)
            batch = []
    return out


async def historian_rate(path: Path, data: list[list[Sample]], at_once: bool) -> float:
    historian = SQLiteHistorian(path)
    await historian.start()
    start = time.perf_counter()
    if at_once:  # every batch queued together: the writer thread group-commits them
        await asyncio.gather(*(historian.submit(batch) for batch in data))
    else:  # one batch at a time, each durable before the next: one transaction each
        for batch in data:
            await historian.write(batch)
    elapsed = time.perf_counter() - start
    await historian.stop()
    return sum(map(len, data)) / elapsed


def raw_rate(path: Path, data: list[list[Sample]], rows_per_transaction: int) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")  # the historian's default durability (power_cut)
    db.execute(
        "CREATE TABLE samples (tag_id INTEGER, ts INTEGER, value REAL, quality INTEGER, status INTEGER, "
        "PRIMARY KEY (tag_id, ts)) WITHOUT ROWID"
    )
    start = time.perf_counter()
    rows: list[tuple[int, int, float, int, int]] = []
    for batch in data:  # the same conversion work the historian does
        rows += [(int(s.tag[5:]), to_us(s.ts), s.value, int(s.quality), s.status) for s in batch]
        if len(rows) >= rows_per_transaction:
            db.execute("BEGIN")
            db.executemany("INSERT OR IGNORE INTO samples VALUES (?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
            rows = []
    elapsed = time.perf_counter() - start
    db.close()
    return sum(map(len, data)) / elapsed


def bench_write() -> None:
    shapes = {  # each batch: 100 tags over 10 s (a backfill, a replay), or 1,000 tags in 1 s (live)
        "100 tags x 10 s": batches(1_000_000, 100, 1000),
        "1,000 tags x 1 s": batches(500_000, 1000, 1000),
    }
    results: dict[str, list[tuple[float, float]]] = {}
    for round_ in range(3):
        for shape, data in shapes.items():
            with tempfile.TemporaryDirectory() as tmp:
                raw = raw_rate(Path(tmp) / "raw.db", data, 1000)
                ours = asyncio.run(historian_rate(Path(tmp) / "hist.db", data, at_once=False))
            results.setdefault(f"{shape}, 1,000-row transactions", []).append((raw, ours))
            print(f"round {round_ + 1}, {shape}: 1,000-row transactions: raw {raw:,.0f}/s, historian "
                  f"{ours:,.0f}/s, ratio {ours / raw:.2f}", flush=True)  # fmt: skip
        data = shapes["100 tags x 10 s"]
        with tempfile.TemporaryDirectory() as tmp:
            raw = raw_rate(Path(tmp) / "raw50k.db", data, 50_000)
            ours = asyncio.run(historian_rate(Path(tmp) / "hist50k.db", data, at_once=True))
        results.setdefault("100 tags x 10 s, grouped (50,000 rows)", []).append((raw, ours))
        print(f"round {round_ + 1}, grouped: raw {raw:,.0f}/s, historian {ours:,.0f}/s, ratio {ours / raw:.2f}",
              flush=True)  # fmt: skip
    for name, pairs in results.items():
        raw = statistics.median(r for r, _ in pairs)
        ours = statistics.median(o for _, o in pairs)
        print(f"median, {name}: raw {raw:,.0f}/s, historian {ours:,.0f}/s, historian/raw = {ours / raw:.2f}")


async def build_year(path: Path) -> None:
    historian = SQLiteHistorian(path)
    await historian.start()
    start = time.perf_counter()
    n = 365 * 86400
    pending: list[asyncio.Future[None]] = []
    for day in range(365):
        base = T0 + timedelta(days=day)
        for chunk in range(0, 86400, 10_000):
            batch = [
                Sample("dam.level", base + timedelta(seconds=s), 5.0 + ((day * 86400 + s) % 7919) / 1000)
                for s in range(chunk, min(chunk + 10_000, 86400))
            ]
            pending.append(historian.submit(batch))
        if len(pending) > 50:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    await historian.stop()
    elapsed = time.perf_counter() - start
    print(f"built one year ({n:,} samples) in {elapsed:.0f} s: {n / elapsed:,.0f} samples/s")


async def bench_year() -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (before anything is timed)
    path = BENCH_DIR / "year.db"
    if not path.exists():
        await build_year(path)
    historian = SQLiteHistorian(path)
    await historian.start()
    end = T0 + timedelta(days=365)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        buckets = await historian.downsampled("dam.level", T0, end, 2000)
        times.append(time.perf_counter() - start)
    await historian.stop()
    assert sum(b.count for b in buckets) == 365 * 86400
    db = sqlite3.connect(path)
    start = time.perf_counter()
    width = to_us(end) // 2000 - to_us(T0) // 2000
    db.execute(
        "SELECT (ts - ?) / ?, min(value), max(value), avg(value) FROM samples WHERE tag_id = 1 GROUP BY 1",
        (to_us(T0), width),
    ).fetchall()
    raw = time.perf_counter() - start
    median = statistics.median(times)
    print(f"one year, {len(buckets)} buckets: median {median * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")
    print(f"plain GROUP BY over the 31.5 M raw rows: {raw * 1000:.0f} ms ({raw / median:.0f}x slower)")


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "write"
    if which == "write":
        bench_write()
    else:
        asyncio.run(bench_year())
