"""One server for many dams: what it costs per sample, and where the cost curve bends (by hand).

    .venv/bin/python tests/bench/bench_scale.py [TAGS[,TAGS…]] [SECONDS] [CLIENTS]

For each TAGS (default 500,5000,20000): TAGS / 100 dam stations of 100 tags each, every tag
changing once a second, served by `scale_stations.py` processes (five stations to a process,
each its own OPC-UA server and endpoint). Two rounds of SECONDS (default 60) each:

- baseline: a bare asyncua client process subscribed to every tag of every station with the
  same publishing interval (500 ms): the CPU it takes to receive them, which no supervision
  can avoid;
- the server: a real `ecreteur server` on the same stations, with a limits rule on every tag,
  paging configured (SMS through Prism serving Twilio's spec), and CLIENTS (default 20)
  event-stream clients of every sample in a second process. Its CPU over the round, its
  resident memory, the samples it stored, the machine's idle CPU (the headroom), the time
  from a sample's source stamp to every client (p50, p99), and from the first station's level
  crossing HH (every 10 s) to the SMS request at Twilio.

The ratio is the server's CPU per sample over the bare client's. Both rounds share the machine
with the stations' processes, whose CPU is printed too. With ``PYSPY=/path/to/py-spy`` the
server round is also sampled by py-spy (200 Hz, every thread), its collapsed stacks written to
``$PYSPY_OUT`` (default ``server-stacks.txt``).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psutil  # noqa: E402

from core.children import spawn  # noqa: E402
from tests.integration.api_server import ApiServer  # noqa: E402
from tests.integration.paging_peers import (  # noqa: E402
    ACCOUNT_SID,
    PUBLIC_URL,
    RecordingProxy,
    twilio_mock,
)

TAGS_PER_STATION = 100
STATIONS_PER_PROCESS = 5
CROSSING_S = 10
PUBLISHING_MS = 500


def site(ports: list[int], proxy: RecordingProxy) -> str:
    lines = ["site: {name: Scale bench}", "stations:"]
    for i, port in enumerate(ports):
        lines.append(f'  - {{id: s{i:03d}, name: Barrage {i:03d}, endpoint: "opc.tcp://127.0.0.1:{port}/s{i}", '
                     f"publishing_interval_ms: {PUBLISHING_MS}, reconnect_max_delay_s: 2, backfill: false}}")  # fmt: skip
    lines.append("tags:")
    for i in range(len(ports)):
        for j in range(TAGS_PER_STATION):
            lines.append(f'  - {{id: s{i:03d}.t{j:03d}, station: s{i:03d}, node: "ns=2;s=v{j}", unit: m, '
                         f"label: {{fr: Mesure {j}}}}}")  # fmt: skip
    lines += [
        "alarms:",
        "  - {id: limits, tags: 's*.t*', kind: limits, limits: {H: {value: 900.0}, HH: {value: 1000.0}}}",
        "roster:",
        "  timezone: Europe/Paris",
        '  people: [{id: alice, name: Alice Martin, phone: "+33611111111", language: fr}]',
        "escalation:",
        "  group_window_s: 0",
        "  routes: [{priorities: [critical], policy: crue}]",
        "  policies: [{id: crue, levels: [{targets: [{person: alice}], channels: [sms], delay_min: 600}]}]",
        "notify:",
        f"  twilio: {{account_sid: {ACCOUNT_SID}, auth_token: !secret twilio_token, from_number: '+33500000000',",
        f'           public_url: "{PUBLIC_URL}", api_base: "{proxy.url}", timeout_s: 10}}',
        "api: {port: @API_PORT@}",
    ]
    return "\n".join(lines) + "\n"


def distinct_ports(count: int) -> list[int]:
    """``count`` free loopback ports, all different (each socket held until all are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else math.nan


def cpu_of(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def start_stations(ports: list[int], rises: Path) -> list[subprocess.Popen[bytes]]:
    processes = []
    for first in range(0, len(ports), STATIONS_PER_PROCESS):
        group = ports[first : first + STATIONS_PER_PROCESS]
        command = [sys.executable, str(HERE / "scale_stations.py"), str(first), ",".join(map(str, group)),
                   str(TAGS_PER_STATION), str(CROSSING_S), str(rises)]  # fmt: skip
        processes.append(spawn(command, stdout=subprocess.PIPE))
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line == b"ready", f"a station process did not start: {line!r}"
    return processes


async def bare_main(seconds: float, ports: list[int]) -> dict[str, float]:
    """The baseline process: one bare asyncua client per station, counting notifications."""
    from asyncua import Client, ua

    received = 0

    class Handler:
        def datachange_notification(self, _node: Any, _value: Any, _data: Any) -> None:
            nonlocal received
            received += 1

    clients = []
    for i, port in enumerate(ports):
        client = Client(f"opc.tcp://127.0.0.1:{port}/s{i}", timeout=30)
        await client.connect()
        subscription = await client.create_subscription(PUBLISHING_MS, Handler())
        nodes = [client.get_node(ua.NodeId.from_string(f"ns=2;s=v{j}")) for j in range(TAGS_PER_STATION)]
        await subscription.subscribe_data_change(nodes, queuesize=10)
        clients.append(client)
    await asyncio.sleep(5)  # warm-up: every initial value in
    before, cpu = received, time.process_time()
    await asyncio.sleep(seconds)
    result = {"notifications": received - before, "cpu": time.process_time() - cpu}
    for client in clients:
        await client.disconnect()
    return result


def bare_round(ports: list[int], seconds: float) -> dict[str, float]:
    command = [sys.executable, __file__, "--bare", str(seconds), ",".join(map(str, ports))]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 600).stdout
    result: dict[str, float] = json.loads(out.splitlines()[-1])
    return result


async def metric(api: httpx.AsyncClient, name: str) -> float:
    text = (await api.get("/metrics")).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


async def server_round(ports: list[int], seconds: float, clients: int, root: Path, proxy: RecordingProxy,
                       rises: Path, stations: list[psutil.Process]) -> dict[str, Any]:  # fmt: skip
    server = ApiServer(root / "server", site=site(ports, proxy))
    server.root.mkdir(parents=True)
    await asyncio.to_thread(server.start, False)
    try:
        process = psutil.Process(server.server.pid)
        read = server.headers("read")
        async with httpx.AsyncClient(base_url=server.url, headers=read, timeout=30) as api:
            deadline = time.monotonic() + 300
            while True:
                states = [s["state"] for s in (await api.get("/stations")).json()]
                if states.count("connected") == len(ports):
                    break
                assert time.monotonic() < deadline, f"stations connected: {states.count('connected')}"
                await asyncio.sleep(0.5)
            await asyncio.sleep(10)  # warm-up: initial values, first pages
            command = [sys.executable, str(HERE / "bench_stream.py"), "--clients", server.url,
                       server.tokens["read"], str(clients), str(seconds)]  # fmt: skip
            peer = subprocess.Popen(command, stdout=subprocess.PIPE, text=True) if clients else None
            if peer is not None:
                assert peer.stdout is not None
                assert peer.stdout.readline().strip() == "ready"
            start_pages = len(proxy.pages("sms"))
            stored0 = await metric(api, "ecreteur_samples_stored_total")
            cpu0, stations0, machine0 = cpu_of([process]), cpu_of(stations), psutil.cpu_times()
            started, start_perf = time.monotonic(), time.perf_counter()
            spy = None
            if os.environ.get("PYSPY"):  # where the server's time goes: collapsed stacks of the round
                spy = subprocess.Popen([os.environ["PYSPY"], "record", "--format", "raw", "--rate", "200",
                                        "--duration", str(int(seconds)), "--pid", str(process.pid), "--threads",
                                        "--output", os.environ.get("PYSPY_OUT", "server-stacks.txt")],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            await asyncio.sleep(seconds)
            if spy is not None:
                await asyncio.to_thread(spy.wait)
            elapsed = time.monotonic() - started
            cpu, station_cpu, machine = cpu_of([process]), cpu_of(stations), psutil.cpu_times()
            stored = await metric(api, "ecreteur_samples_stored_total") - stored0
            queue = await metric(api, "ecreteur_historian_queue_rows")
            rss = process.memory_info().rss / 2**20
        streamed: dict[str, Any] = {"latencies": [], "batches": []}
        if peer is not None:
            out, _ = peer.communicate(timeout=seconds + 120)
            streamed = json.loads(out.splitlines()[-1])
        # each rise of the first station's level: the first page SMS after it ("[code] …")
        risen = [float(t) for t in rises.read_text().split()] if rises.exists() else []  # noqa: ASYNC240
        pages = [p.received for p in proxy.pages("sms")[start_pages:] if p.form["Body"].startswith("[")]
        paging = []
        for rise in (r for r in risen if start_perf <= r <= start_perf + seconds - 2):
            after = [p for p in pages if p >= rise]
            if after:
                paging.append(after[0] - rise)
        idle = (machine.idle - machine0.idle) / elapsed / psutil.cpu_count()
        return {"cpu": (cpu - cpu0) / elapsed, "stations_cpu": (station_cpu - stations0) / elapsed,
                "stored": stored / elapsed, "queue": queue, "rss": rss, "idle": idle, "paging": paging,
                "streamed": streamed["latencies"], "batches": streamed["batches"]}  # fmt: skip
    finally:
        server.stop()


async def one_size(tags: int, seconds: float, clients: int, root: Path, proxy: RecordingProxy) -> None:
    count = tags // TAGS_PER_STATION
    ports = distinct_ports(count)
    rises = root / f"rises-{tags}.txt"
    processes = start_stations(ports, rises)
    stations = [psutil.Process(p.pid) for p in processes]
    try:
        bare = await asyncio.to_thread(bare_round, ports, seconds)
        ours = await server_round(ports, seconds, clients, root / f"{tags}", proxy, rises, stations)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    rate = tags  # samples a second the stations make
    bare_per = bare["cpu"] / seconds / max(1.0, bare["notifications"] / seconds)
    ours_per = ours["cpu"] / max(1.0, ours["stored"])
    streamed = ours["streamed"]
    print(f"{tags} tags ({count} stations) at 1 Hz, {clients} stream clients, {seconds:.0f} s:", flush=True)
    print(f"  bare asyncua client: {bare['cpu'] / seconds * 100:.1f} % of a core, "
          f"{bare['notifications'] / seconds:.0f} notifications/s, {bare_per * 1e6:.1f} µs CPU each")  # fmt: skip
    print(f"  server: {ours['cpu'] * 100:.1f} % of a core, {ours['stored']:.0f} samples/s stored of {rate} made "
          f"({ours['queue']:.0f} waiting), {ours_per * 1e6:.1f} µs CPU per sample, RSS {ours['rss']:.0f} MiB; "
          f"stations {ours['stations_cpu'] * 100:.0f} % of a core; machine idle {ours['idle'] * 100:.0f} %")  # fmt: skip
    if streamed:
        print(f"  stream: stamp → client p50 {pct(streamed, 0.5) * 1e3:.0f} ms, p99 {pct(streamed, 0.99) * 1e3:.0f} ms, "
              f"batches per client {min(ours['batches'])}–{max(ours['batches'])}")  # fmt: skip
    paging = ours["paging"]
    if paging:
        print(f"  level crossing → SMS request: p50 {pct(paging, 0.5) * 1e3:.0f} ms, "
              f"p99 {pct(paging, 0.99) * 1e3:.0f} ms, max {max(paging) * 1e3:.0f} ms (n={len(paging)})")  # fmt: skip
    print(f"  ratio server / bare client CPU per sample: {ours_per / bare_per:.2f}", flush=True)


async def main(sizes: list[int], seconds: float, clients: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with twilio_mock(root) as proxy:
            for tags in sizes:
                await one_size(tags, seconds, clients, root, proxy)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        ports = [int(p) for p in sys.argv[3].split(",")]
        print(json.dumps(asyncio.run(bare_main(float(sys.argv[2]), ports))))
    else:
        sizes = [int(t) for t in (sys.argv[1] if len(sys.argv) > 1 else "500,5000,20000").split(",")]
        asyncio.run(main(sizes, float(sys.argv[2]) if len(sys.argv) > 2 else 60.0,
                         int(sys.argv[3]) if len(sys.argv) > 3 else 20))  # fmt: skip
