"""Alarm engine benchmark (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_alarms.py

10,000 tags with one limits rule each (H and HH: 20,000 alarms), samples arriving at
10,000 per second in batches of 100 (as acquisition publishes them), 2 % of them crossing a
limit one way or the other. Measures, in the same run:
- CPU per sample of the engine (bus -> rules -> state machine -> AlarmEvent on the bus, journal
  writes queued to their thread) against a bare dictionary threshold loop;
- latency from a batch entering the bus to each of its alarm events leaving it (p50, p99), with
  the samples paced at 10,000/s on the event loop.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from core.alarms.engine import AlarmEngine
from core.bus import ALARMS, SAMPLES, Bus
from core.clock import LoopClock
from core.config.schema import SiteConfig
from core.model import AlarmEvent, Sample, utcnow
from core.storage.sqlite_journal import SQLiteAlarmJournal

TAGS = 10_000
BATCH = 100
RATE = 10_000
SECONDS = 10


def site() -> SiteConfig:
    return SiteConfig.model_validate(
        {
            "site": {"name": "bench"},
            "stations": [{"id": "s", "name": "s", "endpoint": "opc.tcp://127.0.0.1:4840/"}],
            "tags": [
                {"id": f"s.t{i}", "station": "s", "node": f"ns=2;i={i}", "label": {"fr": "t"}}
                for i in range(TAGS)
            ],
            "alarms": [
                {"id": f"r{i}", "tags": f"s.t{i}", "kind": "limits", "deadband": 0.5,
                 "limits": {"H": {"value": 10.0}, "HH": {"value": 20.0}}}
                for i in range(TAGS)
            ],
        }
    )  # fmt: skip


def workload(n: int) -> list[list[tuple[str, float]]]:
    rng = random.Random(7)
    batches = []
    for b in range(n // BATCH):
        batch = []
        for _ in range(BATCH):
            tag = rng.randrange(TAGS)
            value = rng.choice((25.0, 15.0)) if rng.random() < 0.02 else rng.uniform(0, 8)
            batch.append((f"s.t{tag}", value))
        batches.append(batch)
        del b
    return batches


def bare_loop(batches: list[list[tuple[str, float]]]) -> float:
    limits = {f"s.t{i}": (10.0, 20.0) for i in range(TAGS)}
    state: dict[str, tuple[bool, bool]] = {}
    events = []
    start = time.process_time()
    for batch in batches:
        samples = [Sample(tag, utcnow(), value) for tag, value in batch]
        for s in samples:
            h, hh = limits[s.tag]
            old = state.get(s.tag, (False, False))
            new = (s.value > h, s.value > hh)
            if new != old:
                state[s.tag] = new
                events.append((s.tag, new))
    return (time.process_time() - start) / (len(batches) * BATCH)


async def engine_run(batches: list[list[tuple[str, float]]], paced: bool) -> tuple[float, list[float], int]:
    with tempfile.TemporaryDirectory() as tmp:
        bus = Bus()
        journal = SQLiteAlarmJournal(Path(tmp) / "j.db")
        await journal.start()
        engine = AlarmEngine(site(), bus, journal, LoopClock())
        await engine.start()
        latencies: list[float] = []
        sent_at = 0.0

        def on_alarm(_event: AlarmEvent) -> None:
            latencies.append(time.perf_counter() - sent_at)

        bus.subscribe(ALARMS, on_alarm)
        loop = asyncio.get_running_loop()
        period = BATCH / RATE
        next_at = loop.time()
        cpu = time.process_time()
        for batch in batches:
            samples = [Sample(tag, utcnow(), value) for tag, value in batch]
            sent_at = time.perf_counter()
            bus.publish(SAMPLES, samples)
            if paced:
                next_at += period
                await asyncio.sleep(max(0.0, next_at - loop.time()))
        cpu = time.process_time() - cpu
        await engine.stop()
        await journal.stop()
    return cpu / (len(batches) * BATCH), latencies, len(latencies)


def main() -> None:
    batches = workload(RATE * SECONDS)
    bare = bare_loop(batches)
    cpu, _, events = asyncio.run(engine_run(batches, paced=False))
    print(f"unpaced: engine {1 / cpu:,.0f} samples/s ({cpu * 1e6:.1f} µs CPU each, {events:,} alarm events); "
          f"bare loop {bare * 1e6:.1f} µs each; engine/bare CPU = {cpu / bare:.1f}")  # fmt: skip
    _, latencies, events = asyncio.run(engine_run(batches, paced=True))
    latencies.sort()
    p50 = statistics.median(latencies) * 1e3
    p99 = latencies[int(len(latencies) * 0.99)] * 1e3
    print(f"paced at {RATE:,}/s: {events:,} alarm events, latency p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
          f"max {latencies[-1] * 1e3:.3f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
