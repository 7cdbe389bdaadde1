"""Event-stream fan-out benchmark (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_stream.py [SECONDS] [CLIENTS] [TAGS]

Starts a real `ecreteur server` (no station) on a site of TAGS tags (1,000), and posts one
sample of every tag each second over REST, stamped with the wall clock when posted. Two rounds
of SECONDS each (30):

- baseline: no stream client. The same samples are delivered only to the historian and the
  REST caller: server CPU per second, and the time from the sample's stamp to the durable
  answer (p50, p99);
- fan-out: CLIENTS (20) WebSocket clients of ``GET /api/v1/events?kinds=samples`` in a second
  process: server CPU per second, and the time from the sample's stamp to its arrival at each
  client (p50, p99 over every client and batch), and the batches each client missed.

The ratios are fan-out CPU / baseline CPU and fan-out p99 / baseline p99.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psutil  # noqa: E402

from tests.integration.api_server import ApiServer  # noqa: E402


def site(tags: int) -> str:
    lines = [
        "site: {name: Stream bench}",
        "stations:",
        '  - {id: bench, name: Bench, endpoint: "opc.tcp://127.0.0.1:@STATION_PORT@/x", reconnect_max_delay_s: 60}',
        "tags:",
        *(f'  - {{id: bench.t{i:04d}, station: bench, node: "ns=2;s=T{i}", label: {{fr: T{i}}}}}' for i in range(tags)),
        "api: {port: @API_PORT@, max_batch: 100000, max_body_bytes: 50000000}",
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def ingest(url: str, token: str, tags: int, seconds: float) -> list[float]:
    """One sample of every tag per second, stamped now; returns stamp→durable-answer latencies."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30) as client:
        start = time.monotonic()
        tick = 0
        while time.monotonic() - start < seconds:
            stamp = datetime.now(UTC)
            body = {"samples": [{"tag": f"bench.t{i:04d}", "ts": stamp.isoformat(), "value": float(tick)}
                                for i in range(tags)]}  # fmt: skip
            answer = await client.post(f"{url}/samples", json=body, headers=headers)
            assert answer.status_code == 200, answer.text
            latencies.append(time.time() - stamp.timestamp())
            tick += 1
            await asyncio.sleep(max(0.0, start + tick - time.monotonic()))
    return latencies


def server_cpu(process: subprocess.Popen[bytes]) -> float:
    times = psutil.Process(process.pid).cpu_times()
    return float(times.user + times.system)


async def clients_main(url: str, token: str, clients: int, seconds: float) -> dict[str, Any]:
    """The second process: CLIENTS stream clients, each timing every batch it receives."""
    from websockets.asyncio.client import connect

    latencies: list[float] = []
    batches: list[int] = []
    ready = 0
    all_ready = asyncio.Event()

    async def one() -> None:
        nonlocal ready
        received = 0
        ws_url = url.replace("http://", "ws://") + "/events?kinds=samples"
        async with connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"},
                           max_size=2**26) as socket:  # fmt: skip
            ready += 1
            if ready == clients:
                all_ready.set()
            deadline = time.monotonic() + seconds + 5
            while time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(socket.recv(), max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break
                now = time.time()
                message = json.loads(raw)
                if message.get("type") != "samples":
                    continue
                stamp = datetime.fromisoformat(message["samples"][0]["ts"].replace("Z", "+00:00"))
                latencies.append(now - stamp.timestamp())
                received += 1
        batches.append(received)

    tasks = [asyncio.create_task(one()) for _ in range(clients)]
    await all_ready.wait()
    print("ready", flush=True)
    await asyncio.gather(*tasks)
    return {"latencies": latencies, "batches": batches}


async def round_trip(api: ApiServer, tags: int, seconds: float, clients: int) -> dict[str, Any]:
    peer = None
    if clients:
        command = [
            sys.executable,
            __file__,
            "--clients",
            api.url,
            api.tokens["read"],
            str(clients),
            str(seconds),
        ]
        peer = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert peer.stdout is not None
        assert peer.stdout.readline().strip() == "ready"
    before, started = server_cpu(api.server), time.monotonic()
    posted = await ingest(api.url, api.tokens["ingest"], tags, seconds)
    cpu = (server_cpu(api.server) - before) / (time.monotonic() - started)
    result: dict[str, Any] = {"cpu": cpu, "posted": posted}
    if peer is not None:
        out, _ = peer.communicate(timeout=seconds + 60)
        result.update(json.loads(out.splitlines()[-1]))
    return result


async def main(seconds: float, clients: int, tags: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        api = ApiServer(Path(tmp), site=site(tags))
        api.start(with_station=False)
        try:
            await ingest(api.url, api.tokens["ingest"], tags, 3)  # warm-up
            base = await round_trip(api, tags, seconds, 0)
            fan = await round_trip(api, tags, seconds, clients)
        finally:
            api.stop()
    posted, streamed = base["posted"], fan["latencies"]
    expected = len(fan["posted"])
    print(f"{tags} tags at 1 Hz, {seconds:.0f} s per round, {clients} stream clients")
    print(f"baseline (no stream): server CPU {base['cpu'] * 100:.1f} % of a core; stamp → durable answer "
          f"p50 {statistics.median(posted) * 1e3:.1f} ms, p99 {percentile(posted, 0.99) * 1e3:.1f} ms")  # fmt: skip
    print(f"fan-out: server CPU {fan['cpu'] * 100:.1f} % of a core; stamp → client p50 "
          f"{statistics.median(streamed) * 1e3:.1f} ms, p99 {percentile(streamed, 0.99) * 1e3:.1f} ms, "
          f"max {max(streamed) * 1e3:.1f} ms; batches per client {min(fan['batches'])}–{max(fan['batches'])}"
          f" of {expected} posted; stamp → durable answer p99 {percentile(fan['posted'], 0.99) * 1e3:.1f} ms")  # fmt: skip
    print(
        f"ratios: CPU {fan['cpu'] / base['cpu']:.2f}, p99 {percentile(streamed, 0.99) / percentile(posted, 0.99):.2f}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--clients":
        url, token, count, secs = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        print(json.dumps(asyncio.run(clients_main(url, token, count, secs))))
    else:
        args = [float(a) for a in sys.argv[1:]]
        asyncio.run(main(args[0] if args else 30.0, int(args[1]) if len(args) > 1 else 20,
                         int(args[2]) if len(args) > 2 else 1000))  # fmt: skip
