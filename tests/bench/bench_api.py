"""REST API benchmark (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_api.py [SECONDS] [CONCURRENCY]
    .venv/bin/python tests/bench/bench_api.py rss [SECONDS] [CONCURRENCY]

Starts a real `ecreteur server` (no station), then from a second process posts 100-sample
batches with CONCURRENCY connections for SECONDS, each answered once durable in SQLite:
samples/s and request latency percentiles. Baseline in the same run: the historian's own write
rate for 100-sample batches, in process. Then one day of one tag at 1 Hz is ingested and the
day is queried downsampled to 1,000 points 200 times: p50 and p99.

``rss``: the server's resident memory while the same ingestion runs for SECONDS and 15 s after,
with the event stream's default ring (``api.stream_ring_mib``) and, as the baseline in the same
run, with a ring of 64 KiB: what the stream's memory costs under sustained ingestion.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from core.model import Sample, utcnow  # noqa: E402
from core.storage.sqlite import SQLiteHistorian  # noqa: E402
from tests.integration.api_server import ApiServer  # noqa: E402


async def client(url: str, token: str, seconds: float, concurrency: int) -> dict[str, float]:
    base = utcnow() - timedelta(days=365)
    latencies: list[float] = []
    sent = 0
    stop_at = float("inf")

    def payloads(worker_id: int, count: int) -> list[bytes]:
        """Request bodies built before the clock starts, so the client measures the server."""
        out = []
        for n in range(0, count * 100, 100):
            batch = [{"tag": "lauragais.level", "ts": (base + timedelta(seconds=worker_id * 10**6 + n + i)).isoformat(),
                      "value": float(i)} for i in range(100)]  # fmt: skip
            out.append(json.dumps({"samples": batch}).encode())
        return out

    bodies = [payloads(w, int(seconds * 120_000 / 100 / concurrency) + 10) for w in range(concurrency)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    host, port = url.split("//")[1].split("/")[0].split(":")
    head = (f"POST /api/v1/samples HTTP/1.1\r\nHost: {host}\r\nAuthorization: {headers['Authorization']}\r\n"
            "Content-Type: application/json\r\nContent-Length: ").encode()  # fmt: skip

    async def worker(worker_id: int) -> None:
        """A minimal keep-alive HTTP/1.1 client: httpx itself cost more CPU than the server."""
        nonlocal sent
        reader, writer = await asyncio.open_connection(host, int(port))
        for body in bodies[worker_id]:
            if time.perf_counter() >= stop_at:
                break
            start = time.perf_counter()
            writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status = await reader.readuntil(b"\r\n\r\n")
            length = int(status.split(b"content-length: ")[1].split(b"\r\n")[0])
            answer = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            assert status.startswith(b"HTTP/1.1 200") and b'"accepted":100' in answer, answer
            sent += 100
        writer.close()

    start = time.perf_counter()
    stop_at = start + seconds
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "rate": sent / elapsed,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3,
        "requests": len(latencies),
    }


async def historian_baseline(seconds: float) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        historian = SQLiteHistorian(Path(tmp) / "h.db")
        await historian.start()
        base = utcnow() - timedelta(days=30)
        written, n = 0, 0
        stop_at = time.perf_counter() + seconds
        start = time.perf_counter()
        pending = []
        while time.perf_counter() < stop_at:
            batch = [Sample("t", base + timedelta(seconds=n + i), float(i)) for i in range(100)]
            pending.append(historian.submit(batch))
            n += 100
            written += 100
            if len(pending) >= 8:  # the same number of batches in flight as the API clients
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - start
        await historian.stop()
    return written / elapsed


def history_query(api: ApiServer) -> tuple[float, float]:
    import httpx

    day = utcnow().replace(microsecond=0) - timedelta(days=2)
    with httpx.Client(headers=api.headers("admin"), timeout=30) as http:
        for chunk in range(0, 86400, 1000):
            batch = [{"tag": "sondes.probe", "ts": (day + timedelta(seconds=chunk + i)).isoformat(), "value": float(i % 97)}
                     for i in range(1000)]  # fmt: skip
            assert http.post(f"{api.url}/samples", json={"samples": batch}).status_code == 200
        params = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat(), "max_points": 1000}
        for _ in range(20):  # warm-up: reader connections, page cache
            http.get(f"{api.url}/tags/sondes.probe/history", params=params)
        times = []
        for _ in range(500):
            start = time.perf_counter()
            response = http.get(f"{api.url}/tags/sondes.probe/history", params=params)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200 and len(response.json()["buckets"]) <= 1000
    times.sort()
    return statistics.median(times) * 1e3, times[int(len(times) * 0.99)] * 1e3, day


async def history_in_process(path: Path, day: datetime) -> tuple[float, float]:
    """The same query straight on the historian the server wrote: the HTTP-free baseline."""
    historian = SQLiteHistorian(path)
    await historian.start()
    times = []
    for i in range(520):
        start = time.perf_counter()
        await historian.downsampled("sondes.probe", day, day + timedelta(days=1), 1000)
        if i >= 20:
            times.append(time.perf_counter() - start)
    await historian.stop()
    times.sort()
    return statistics.median(times) * 1e3, times[int(len(times) * 0.99)] * 1e3


def main(seconds: float, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        api = ApiServer(Path(tmp))
        api.start(with_station=False)
        try:
            out = subprocess.run(
                [sys.executable, __file__, "client", api.url, api.tokens["ingest"], str(seconds), str(concurrency)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert out.returncode == 0, out.stderr[-3000:]
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            p50, p99, day = history_query(api)
        finally:
            api.stop()
        direct = asyncio.run(history_in_process(api.data / "var" / "ecreteur.db", day))
    baseline = asyncio.run(historian_baseline(seconds))
    print(
        f"REST ingestion, {concurrency} connections, 100-sample batches: {figures['rate']:,.0f} samples/s, "
        f"latency p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms ({figures['requests']} requests)"
    )
    print(
        f"historian alone, 100-sample batches: {baseline:,.0f} samples/s -> API/historian = {figures['rate'] / baseline:.2f}"
    )
    print(f"one day at 1 Hz downsampled to 1,000 points over HTTP: p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
          f"in process: p50 {direct[0]:.1f} ms, p99 {direct[1]:.1f} ms")  # fmt: skip


def rss_run(seconds: float, concurrency: int, ring_mib: float | None) -> dict[str, float]:
    import psutil

    from tests.integration.api_server import SITE

    site = SITE if ring_mib is None else SITE.replace("api: {", f"api: {{stream_ring_mib: {ring_mib}, ")
    with tempfile.TemporaryDirectory() as tmp:
        api = ApiServer(Path(tmp), site=site)
        api.start(with_station=False)
        try:
            server = psutil.Process(api.server.pid)
            mib = lambda: server.memory_info().rss / 2**20  # noqa: E731
            start = mib()
            command = [sys.executable, __file__, "client", api.url, api.tokens["ingest"], str(seconds),
                       str(concurrency)]  # fmt: skip
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            peak = start
            while child.poll() is None:
                peak = max(peak, mib())
                time.sleep(1)
            out, err = child.communicate()
            assert child.returncode == 0, err[-3000:]
            at_end = mib()
            time.sleep(15)
            after = mib()
            figures = json.loads(out.strip().splitlines()[-1])
        finally:
            api.stop()
    return {"rate": figures["rate"], "start": start, "peak": peak, "end": at_end, "after": after}


def rss(seconds: float, concurrency: int) -> None:
    for label, ring in (("default ring (32 MiB)", None), ("baseline ring 64 KiB", 0.0625)):
        r = rss_run(seconds, concurrency, ring)
        print(f"{label}: {r['rate']:,.0f} samples/s for {seconds:.0f} s; server RSS start {r['start']:.0f} MiB, "
              f"peak {r['peak']:.0f} (+{r['peak'] - r['start']:.0f}), at the end {r['end']:.0f} "
              f"(+{r['end'] - r['start']:.0f}), 15 s later {r['after']:.0f} MiB (+{r['after'] - r['start']:.0f})")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["rss"]:
        rss(float(sys.argv[2]) if len(sys.argv) > 2 else 60.0, int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    elif sys.argv[1:2] == ["client"]:
        print(json.dumps(asyncio.run(client(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])))))
    else:
        main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0, int(sys.argv[2]) if len(sys.argv) > 2 else 8)
