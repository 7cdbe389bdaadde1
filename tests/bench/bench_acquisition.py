"""Acquisition pipeline benchmark (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_acquisition.py [SECONDS] [VARIABLES]

Starts tests/bench/fast_station.py (an asyncua server changing VARIABLES doubles as fast as it
can), then, each in its own process so that CPU time is measured apart, alternately:
- a bare asyncua client: one subscription in iterator mode, deep queues, counting notifications;
- the Écrêteur pipeline: StationLink -> bus -> SQLite historian (the real Runtime).
Reports notifications per second and CPU seconds per notification of each, and their ratio.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WARMUP_S = 3.0


async def bare(endpoint: str, variables: int, seconds: float) -> dict[str, float]:
    from asyncua import Client, ua

    async with Client(endpoint, timeout=10) as client:
        ns = await client.get_namespace_index("urn:ecreteur:bench")
        nodes = [client.get_node(f"ns={ns};s=v{i}") for i in range(variables)]
        sub = await client.create_subscription(100, None, queue_maxsize=200_000)
        await sub.subscribe_data_change(nodes, queuesize=1000, sampling_interval=0.0)
        count = 0
        marks: dict[str, tuple[float, float, int]] = {}

        async def consume() -> None:
            nonlocal count
            async for event in sub:
                if event.data.monitored_item.Value is not None:
                    count += 1

        task = asyncio.create_task(consume())
        await asyncio.sleep(WARMUP_S)
        marks["start"] = (time.perf_counter(), time.process_time(), count)
        await asyncio.sleep(seconds)
        marks["end"] = (time.perf_counter(), time.process_time(), count)
        task.cancel()
        del ua
    return _figures(marks)


async def pipeline(endpoint: str, variables: int, seconds: float) -> dict[str, float]:
    from core.config.schema import SiteConfig
    from core.runtime import Runtime

    config = SiteConfig.model_validate(
        {
            "site": {"name": "bench"},
            "stations": [
                {"id": "bench", "name": "bench", "endpoint": endpoint, "publishing_interval_ms": 100}
            ],
            "tags": [
                {"id": f"bench.v{i}", "station": "bench", "node": f"ns=2;s=v{i}", "sampling_ms": 0,
                 "label": {"fr": f"v{i}"}}
                for i in range(variables)
            ],
        }
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(config, data_dir=Path(tmp))
        await runtime.start()
        link = runtime.links[0]
        await asyncio.sleep(WARMUP_S)
        marks = {"start": (time.perf_counter(), time.process_time(), link.received)}
        await asyncio.sleep(seconds)
        marks["end"] = (time.perf_counter(), time.process_time(), link.received)
        stored_before_stop = runtime.historian.written_rows  # type: ignore[attr-defined]
        await runtime.stop()
        figures = _figures(marks)
        figures["stored"] = stored_before_stop
        figures["write_errors"] = runtime.write_errors
        figures["connections"] = link.connections
    return figures


def _figures(marks: dict[str, tuple[float, float, int]]) -> dict[str, float]:
    (w0, c0, n0), (w1, c1, n1) = marks["start"], marks["end"]
    n = n1 - n0
    return {"notifications": n, "rate": n / (w1 - w0), "cpu_per_notification_us": (c1 - c0) / max(n, 1) * 1e6}


def client_main(mode: str, endpoint: str, variables: int, seconds: float) -> None:
    run = bare if mode == "bare" else pipeline
    print(json.dumps(asyncio.run(run(endpoint, variables, seconds))))


def main(seconds: float, variables: int) -> None:
    sys.path.insert(0, str(REPO))
    from tests.conftest import free_port

    port = free_port()
    station = subprocess.Popen(
        [sys.executable, str(HERE / "fast_station.py"), str(port), str(variables)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert station.stdout is not None and "ready" in station.stdout.readline()
    endpoint = f"opc.tcp://127.0.0.1:{port}/bench"
    results: dict[str, list[dict[str, float]]] = {"bare": [], "pipeline": []}
    try:
        for _ in range(2):
            for mode in ("bare", "pipeline"):
                out = subprocess.run(
                    [sys.executable, __file__, "client", mode, endpoint, str(variables), str(seconds)],
                    capture_output=True, text=True, check=True, cwd=REPO,
                )  # fmt: skip
                figures = json.loads(out.stdout.strip().splitlines()[-1])
                results[mode].append(figures)
                print(f"{mode:8} {figures['rate']:>9,.0f} notifications/s  "
                      f"{figures['cpu_per_notification_us']:6.1f} µs CPU each  {figures}")  # fmt: skip
    finally:
        station.terminate()
        station.wait()
    bare_cpu = min(r["cpu_per_notification_us"] for r in results["bare"])
    ours_cpu = min(r["cpu_per_notification_us"] for r in results["pipeline"])
    rate = max(r["rate"] for r in results["pipeline"])
    ratio = ours_cpu / bare_cpu
    print(f"pipeline best {rate:,.0f} notifications/s; CPU per notification pipeline/bare = {ratio:.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        sys.path.insert(0, str(REPO))
        client_main(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    else:
        main(
            float(sys.argv[1]) if len(sys.argv) > 1 else 10.0, int(sys.argv[2]) if len(sys.argv) > 2 else 200
        )
