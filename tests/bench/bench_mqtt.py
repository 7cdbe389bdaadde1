"""MQTT ingestion benchmark (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_mqtt.py [MESSAGES] [TAGS] [MODES, e.g. bare,runtime]

A real Mosquitto (Debian's) holds MESSAGES QoS 1 messages, JSON ``{"ts": …, "v": …}`` spread
over TAGS topics, queued for a persistent session; then one subscriber drains them, each in its
own process so that CPU time is measured apart, alternately:

- ``bare``: an aiomqtt client (the library we build on) counting messages, subscribing again on
  reconnection as our link does;
- ``bare+json``: the same, also decoding each payload with json.loads (context);
- ``link``: Écrêteur's MqttLink: payload mapping, time and value checks, samples on the bus;
- ``runtime``: the whole Runtime: the link, alarms and the SQLite historian storing every sample.

With ``PYSPY=/path/to/py-spy`` each contender runs under py-spy, its collapsed stacks written to
``$PYSPY_OUT-MODE.txt`` (default ``mqtt-stacks-MODE.txt``).

Each reports messages per second and CPU µs per message, from the first message to the last
(for ``runtime``, to the last one stored); the summary gives each ours/bare ratio.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MODES = ("bare", "bare+json", "link", "runtime")
# the same broker for every contender: no queue limit, a delivery window of 1,000 unacknowledged
# messages (Mosquitto's default of 20 caps any subscriber near 7,000 messages/s on loopback), and
# the persistence file written at the end, not after each message
BROKER_TUNING = (
    "max_queued_messages 0\nmax_inflight_messages 1000\nautosave_on_changes false\nautosave_interval 1800\n"
)


def topic(i: int) -> str:
    return f"bench/gauge/t{i}"


def site(port: int, tags: int, client_id: str, rules: bool) -> Any:
    from core.config.schema import SiteConfig

    return SiteConfig.model_validate({
        "site": {"name": "bench"},
        "stations": [{"id": "bench", "name": "bench", "source": "mqtt", "endpoint": f"mqtt://127.0.0.1:{port}",
                      "mqtt": {"client_id": client_id}, "timeout_s": 30}],
        "tags": [{"id": f"bench.t{i}", "station": "bench", "label": {"fr": f"t{i}"},
                  "mqtt": {"topic": topic(i), "value": "$.v", "time": "$.ts"}} for i in range(tags)],
        "alarms": [{"id": "haut", "tags": "bench.*", "kind": "limits", "limits": {"HH": {"value": 1e9}}}]
        if rules else [],
    })  # fmt: skip


async def drain_bare(port: int, tags: int, messages: int, client_id: str, decode: bool) -> dict[str, float]:
    import aiomqtt

    async def connect() -> aiomqtt.Client:
        return aiomqtt.Client("127.0.0.1", port, identifier=client_id, clean_session=False)

    async with await connect() as client:  # the persistent session, then away while they are queued
        for i in range(tags):
            await client.subscribe(topic(i), qos=1)
    print("registered", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    count, first = 0, (0.0, 0.0)
    async with await connect() as client:
        # subscribed again on reconnection, as our link does (a broker may have lost them): without
        # it Mosquitto paces the queued messages to ~20,000/s and the client pays more per message
        for i in range(tags):
            await client.subscribe(topic(i), qos=1)
        async for message in client.messages:
            if decode:
                json.loads(message.payload)  # type: ignore[arg-type]
            if count == 0:
                first = (time.perf_counter(), time.process_time())
            count += 1
            if count >= messages:
                break
    return _figures(first, (time.perf_counter(), time.process_time()), count)


async def drain_ours(port: int, tags: int, messages: int, client_id: str, store: bool) -> dict[str, float]:
    from core.bus import SAMPLES, Bus
    from core.runtime import Runtime
    from tests.conftest import eventually

    config = site(port, tags, client_id, rules=store)
    with tempfile.TemporaryDirectory() as tmp:
        if store:
            runtime = Runtime(config, data_dir=Path(tmp))
            await runtime.start()
            await eventually(lambda: runtime.stations["bench"].state.value == "connected", 120, "the session")
            await runtime.stop()
        else:
            from core.acquisition.mqtt import MqttLink

            bus = Bus()
            link = MqttLink(config.stations[0], config.tags, bus)
            link.start()
            await eventually(lambda: link.state.value == "connected", 120, "the session")
            await link.stop()
        print("registered", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        first: tuple[float, float] | None = None
        done = asyncio.Event()
        count = 0

        def on_samples(batch: Any) -> None:
            nonlocal first, count
            if first is None:
                first = (time.perf_counter(), time.process_time())
            count += len(batch)
            if count >= messages and not store:
                done.set()

        if store:
            runtime = Runtime(config, data_dir=Path(tmp))
            runtime.bus.subscribe(SAMPLES, on_samples)
            await runtime.start()
            historian: Any = runtime.historian
            await eventually(lambda: historian.written_rows >= messages, 600, "every message stored")
            end = (time.perf_counter(), time.process_time())
            await runtime.stop()
        else:
            bus = Bus()
            bus.subscribe(SAMPLES, on_samples)
            link = MqttLink(config.stations[0], config.tags, bus)
            link.start()
            await done.wait()
            end = (time.perf_counter(), time.process_time())
            await link.stop()
    assert first is not None
    return _figures(first, end, count)


def _figures(first: tuple[float, float], end: tuple[float, float], count: int) -> dict[str, float]:
    wall, cpu = end[0] - first[0], end[1] - first[1]
    return {"messages": count, "rate": count / wall, "cpu_per_message_us": cpu / max(count, 1) * 1e6}


async def forget(port: int, client_id: str) -> None:
    """End a drained subscriber's persistent session: otherwise the broker would go on queueing
    every later run's messages for it, and each contender would pay for the previous ones."""
    import aiomqtt

    async with aiomqtt.Client("127.0.0.1", port, identifier=client_id, clean_session=True):
        pass


async def publish(port: int, tags: int, messages: int) -> None:
    import aiomqtt

    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    quiet = logging.getLogger("bench.publisher")  # aiomqtt warns of every publish awaiting its PUBACK
    quiet.setLevel(logging.ERROR)
    async with aiomqtt.Client("127.0.0.1", port, max_inflight_messages=2000, logger=quiet) as client:
        for start in range(0, messages, 2000):  # a broker that stops acknowledging fails the run, loudly
            await asyncio.wait_for(asyncio.gather(*(
                client.publish(topic(i % tags), json.dumps({"ts": (t0 + timedelta(seconds=i)).isoformat(),
                                                            "v": float(i)}), qos=1)
                for i in range(start, min(start + 2000, messages))
            )), 120)  # fmt: skip


def client_main(mode: str, port: int, tags: int, messages: int, client_id: str) -> None:
    if mode.startswith("bare"):
        figures = asyncio.run(drain_bare(port, tags, messages, client_id, decode=mode == "bare+json"))
    else:
        figures = asyncio.run(drain_ours(port, tags, messages, client_id, store=mode == "runtime"))
    print(json.dumps(figures), flush=True)


def contender(broker: Any, mode: str, client_id: str, tags: int, messages: int) -> dict[str, float]:
    """One subscriber in its own process: it registers its session, the queue is filled, it drains."""
    process = subprocess.Popen(
        [sys.executable, __file__, "client", mode, str(broker.port), str(tags), str(messages), client_id],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    assert "registered" in process.stdout.readline()
    if os.environ.get("PYSPY"):  # where a contender's time goes: collapsed stacks in $PYSPY_OUT-MODE.txt
        out = f"{os.environ.get('PYSPY_OUT', 'mqtt-stacks')}-{mode}.txt"
        subprocess.Popen([os.environ["PYSPY"], "record", "--format", "raw", "--rate", "500", "--output", out,
                          "--pid", str(process.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    asyncio.run(publish(broker.port, tags, messages))
    process.stdin.write("go\n")
    process.stdin.flush()
    figures: dict[str, float] = json.loads(process.stdout.read().strip().splitlines()[-1])
    process.wait()
    asyncio.run(forget(broker.port, client_id))
    return figures


def main(messages: int, tags: int, modes: tuple[str, ...] = MODES) -> None:
    sys.path.insert(0, str(REPO))
    from tests.peers.mqtt.broker import Broker

    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    for run in range(2):
        with tempfile.TemporaryDirectory() as tmp:  # a fresh broker for each round
            broker = Broker(Path(tmp) / "mosquitto", extra=BROKER_TUNING)
            broker.start()
            try:
                for mode in modes:
                    figures = contender(broker, mode, f"bench-{mode}-{run}", tags, messages)
                    results[mode].append(figures)
                    print(f"{mode:10} {figures['rate']:>9,.0f} messages/s  "
                          f"{figures['cpu_per_message_us']:6.1f} µs CPU each", flush=True)  # fmt: skip
            finally:
                broker.stop()
    if "bare" not in results:
        return
    bare = min(r["cpu_per_message_us"] for r in results["bare"])
    for mode in [m for m in modes if m != "bare"]:
        best = min(results[mode], key=lambda r: r["cpu_per_message_us"])
        print(f"{mode:10} best {max(r['rate'] for r in results[mode]):,.0f} messages/s; "
              f"CPU per message {mode}/bare = {best['cpu_per_message_us'] / bare:.2f}")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        sys.path.insert(0, str(REPO))
        client_main(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 100,
             tuple(sys.argv[3].split(",")) if len(sys.argv) > 3 else MODES)  # fmt: skip
