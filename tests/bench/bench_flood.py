"""End to end: a dam station's sample crossing HH → the first SMS request at Twilio (run by hand).

    .venv/bin/python tests/bench/bench_flood.py [CROSSINGS] [PUBLISHING_MS]

Our simulator's dam station serves its level over OPC-UA (in this process, so that the instant
each value is written is known); a real `ecreteur server` process supervises it with paging
configured (one policy, SMS at once); Twilio is Prism serving Twilio's spec behind the recording
proxy. Each crossing writes the level above HH with the station's source time, waits for the SMS
request at the proxy, acknowledges the alarm over REST, brings the level back and waits until
the server has no alarm left, so that the next crossing is a fresh alarm: CROSSINGS of them
(default 100), each at a random instant of the publishing cycle, p50 and p99.

The baseline, in the same run and on the same crossings, is a bare asyncua client subscribed to
the same node with the same publishing interval (default 500 ms, the config's default): the
OPC-UA delivery no supervision can beat. The server's log (``ts=`` to the millisecond, UTC)
splits the rest: station → sample received and alarm raised (the engine's journal), → incident
opened, → SMS sent; the proxy's arrival time ends it.
"""

from __future__ import annotations

import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from asyncua import Client, ua

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from core.model import utcnow  # noqa: E402
from core.sim.flood import DamParameters  # noqa: E402
from core.sim.scenario import load_scenario  # noqa: E402
from core.sim.station import DamStation  # noqa: E402
from tests.integration.api_server import ApiServer  # noqa: E402
from tests.integration.paging_peers import (  # noqa: E402
    ACCOUNT_SID,
    PUBLIC_URL,
    RecordingProxy,
    twilio_mock,
)

SITE = """\
site: {name: Flood bench, language: fr}
stations:
  - {id: lauragais, name: Barrage de la Ganguise,
     endpoint: "opc.tcp://127.0.0.1:@STATION_PORT@/ecreteur/lauragais",
     publishing_interval_ms: @PUBLISHING@, reconnect_max_delay_s: 1}
tags:
  - {id: lauragais.level, station: lauragais, node: "ns=2;s=Level", unit: m, decimals: 2,
     label: {fr: Niveau, en: Level}}
alarms:
  - {id: level, tags: lauragais.level, kind: limits, limits: {HH: {value: 4.0}}}
roster:
  timezone: Europe/Paris
  people:
    - {id: alice, name: Alice Martin, phone: "+33611111111", language: fr}
escalation:
  group_window_s: 0
  routes: [{priorities: [critical], policy: crue}]
  policies:
    - id: crue
      levels: [{targets: [{person: alice}], channels: [sms], delay_min: 600}]
notify:
  twilio: {account_sid: @SID@, auth_token: !secret twilio_token, from_number: "+33500000000",
           public_url: "@PUBLIC@", api_base: "@PROXY@", timeout_s: 10}
api: {port: @API_PORT@}
"""
_TS = re.compile(r"^ts=(\S+)Z ")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class BareSubscriber:
    """A bare asyncua client on the station's level: when each value arrives (perf_counter)."""

    def __init__(self, endpoint: str, publishing_ms: int) -> None:
        self.client = Client(endpoint, timeout=10)
        self.publishing_ms = publishing_ms
        self.arrivals: list[tuple[float, float]] = []  # (perf_counter, value)

    def datachange_notification(self, _node: Any, value: Any, _data: Any) -> None:
        self.arrivals.append((time.perf_counter(), float(value)))

    async def start(self) -> None:
        await self.client.connect()
        subscription = await self.client.create_subscription(self.publishing_ms, self)
        node = self.client.get_node(ua.NodeId.from_string("ns=2;s=Level"))
        await subscription.subscribe_data_change(node, queuesize=100)

    async def first_above(self, limit: float, after: float, timeout: float = 30) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for at, value in self.arrivals:
                if at >= after and value > limit:
                    return at
            await asyncio.sleep(0.001)
        raise TimeoutError("the bare subscriber never saw the crossing")

    async def stop(self) -> None:
        await self.client.disconnect()


def log_instants(log: str, pattern: str) -> list[float]:
    """Wall-clock instants (epoch seconds) of the server's log lines matching ``pattern``."""
    found = []
    for line in log.splitlines():
        stamp = _TS.match(line)
        if stamp and re.search(pattern, line):
            found.append(datetime.fromisoformat(stamp.group(1)).replace(tzinfo=UTC).timestamp())
    return found


async def crossings(server: ApiServer, station: DamStation, bare: BareSubscriber, proxy: RecordingProxy,
                    count: int) -> list[dict[str, float]]:  # fmt: skip
    read, operate = server.headers("read"), server.headers("operate")
    phase = random.Random(20)
    results = []
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:

        async def alarms() -> list[dict[str, Any]]:
            answer = await api.get("/alarms", headers=read)
            answer.raise_for_status()
            return list(answer.json())

        deadline = time.monotonic() + 120
        while not [s for s in (await api.get("/stations", headers=read)).json() if s["state"] == "connected"]:
            assert time.monotonic() < deadline, "the server never connected to the station"
            await asyncio.sleep(0.1)
        for i in range(count):
            code = f"[{i + 1}] "  # each crossing opens incident i + 1; notices start otherwise

            def paged() -> list[Any]:
                return [p for p in proxy.pages("sms") if p.form["Body"].startswith(code)]  # noqa: B023

            # a random instant within the publishing cycle, as a real crossing would fall
            await asyncio.sleep(phase.uniform(0, bare.publishing_ms / 1000))
            wall, start = time.time(), time.perf_counter()
            await station.write("Level", 4.5, utcnow())
            seen = await bare.first_above(4.0, start)
            while not paged():
                assert time.perf_counter() - start < 30, f"no SMS {code}within 30 s"
                await asyncio.sleep(0.0005)
            page = paged()[0]
            results.append({"wall": wall, "start": start, "bare": seen - start, "sms": page.received - start})
            raised = [a for a in await alarms() if a["active"]]
            for alarm in raised:
                answer = await api.post(f"/alarms/{alarm['id']}/ack", headers=operate,
                                        json={"user": "bench", "comment": "bench"})  # fmt: skip
                answer.raise_for_status()
            await station.write("Level", 3.0, utcnow())
            while await alarms():  # noqa: ASYNC110  (acknowledged and back to normal: the next crossing is a new alarm)
                await asyncio.sleep(0.02)
    return results


def breakdown(log: str, results: list[dict[str, float]]) -> dict[str, list[float]]:
    """Per crossing, the server's log lines that follow the station's write (wall clock, ms)."""
    opened = log_instants(log, r"alarm \S+ opens incident")
    sent = log_instants(log, r"'page \S+ sent to alice by sms")
    stages: dict[str, list[float]] = {"station write -> incident opened (log)": [],
                                      "incident opened -> SMS request at Twilio": [],
                                      "SMS request -> Twilio answered (log)": []}  # fmt: skip
    for result in results:
        at = result["wall"] - 0.002  # the log's milliseconds are truncated
        first = next((t for t in opened if t >= at), None)
        answered = next((t for t in sent if t >= at), None)
        request = result["wall"] + result["sms"]
        if first is not None:
            stages["station write -> incident opened (log)"].append(first - result["wall"])
            stages["incident opened -> SMS request at Twilio"].append(request - first)
        if answered is not None:
            stages["SMS request -> Twilio answered (log)"].append(answered - request)
    return stages


async def run(
    count: int, publishing_ms: int, root: Path, proxy: RecordingProxy
) -> tuple[list[dict[str, float]], str]:
    server = ApiServer(root, site=SITE)
    site = (SITE.replace("@PUBLISHING@", str(publishing_ms)).replace("@SID@", ACCOUNT_SID)
            .replace("@PUBLIC@", PUBLIC_URL).replace("@PROXY@", proxy.url))  # fmt: skip
    server.site = site
    scenario = load_scenario("dry-day")
    station = DamStation(
        "lauragais", DamParameters(), scenario, port=server.station_port, tick_s=86_400.0
    )  # fmt: skip  (no physics tick: the bench writes the level)
    await station.start()
    await station.write("Level", 3.0, utcnow())
    bare = BareSubscriber(station.endpoint, publishing_ms)
    await bare.start()
    try:
        await asyncio.to_thread(server.start, False)
        results = await crossings(server, station, bare, proxy, count)
    finally:
        server.stop()
        await bare.stop()
        await station.stop()
    return results, server.log()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    publishing_ms = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with twilio_mock(root) as proxy:
            results, log = asyncio.run(run(count, publishing_ms, root, proxy))
    bare = [r["bare"] for r in results]
    sms = [r["sms"] for r in results]
    print(f"{count} crossings, publishing interval {publishing_ms} ms")
    for name, values in (("station write -> SMS request at Twilio", sms),
                         ("station write -> bare asyncua client", bare),
                         *breakdown(log, results).items()):  # fmt: skip
        if values:
            print(f"  {name:46s} p50 {pct(values, 0.5) * 1e3:7.1f} ms  p99 {pct(values, 0.99) * 1e3:7.1f} ms  "
                  f"max {max(values) * 1e3:7.1f} ms  mean {statistics.fmean(values) * 1e3:7.1f} ms  (n={len(values)})")  # fmt: skip
    print(
        f"  the first crossing after the server's start: SMS {sms[0] * 1e3:.1f} ms (bare {bare[0] * 1e3:.1f} ms)"
    )
    print(f"ratio SMS / bare OPC-UA delivery: p50 {pct(sms, 0.5) / pct(bare, 0.5):.2f}  "
          f"p99 {pct(sms, 0.99) / pct(bare, 0.99):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
