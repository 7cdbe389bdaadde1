"""Stations that are not OPC-UA: an MQTT rain gauge (a real Mosquitto broker) and a REST-only probe.

The same quality, link-state, history, alarm and paging semantics hold for every source; an
MQTT station loses nothing at QoS 1 when the broker dies, nor when this process is away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from core.acquisition.mqtt import dispose
from core.bus import STATION_STATUS
from core.config.schema import SiteConfig
from core.model import ConnectionState, Quality, StationStatus, utcnow
from core.runtime import Runtime
from tests.conftest import eventually, site
from tests.peers.mqtt.broker import Broker

pytestmark = pytest.mark.mqtt
RAIN = "eaux/pluvio/rain"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


def gauge_site(broker: Broker, **station: Any) -> SiteConfig:
    return site(
        [{"id": "pluvio", "source": "mqtt", "endpoint": broker.url, "reconnect_max_delay_s": 1.0, **station}],
        [{"id": "pluvio.rain", "station": "pluvio", "unit": "mm/h",
          "mqtt": {"topic": RAIN, "value": "$.mm", "time": "$.ts"}}],
    )  # fmt: skip


class Gauge:
    """A rain gauge that stores and forwards: each reading is kept until the broker acknowledged it
    (QoS 1), so a broker outage delays its readings and a lost PUBACK resends one (a duplicate)."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.queue: asyncio.Queue[tuple[datetime, float]] = asyncio.Queue()
        self.sent = 0
        self.outages = 0

    def measure(self, ts: datetime, mm: float) -> None:
        self.queue.put_nowait((ts, mm))

    async def forward(self) -> None:
        reading: tuple[datetime, float] | None = None
        while True:
            client = aiomqtt.Client("127.0.0.1", self.broker.port, identifier="gauge-7", clean_session=False,
                                    timeout=2)  # fmt: skip
            try:
                async with client:
                    while True:
                        reading = reading or await self.queue.get()
                        payload = json.dumps({"ts": reading[0].isoformat(), "mm": reading[1]})
                        await client.publish(RAIN, payload, qos=1)
                        self.sent += 1
                        reading = None
            except aiomqtt.MqttError:
                self.outages += 1
                dispose(client)
                await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running(config: SiteConfig, data_dir: Path) -> AsyncIterator[Runtime]:
    runtime = Runtime(config, data_dir=data_dir)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def connected(runtime: Runtime, station: str) -> bool:
    return runtime.stations[station].state is ConnectionState.CONNECTED


async def stored(runtime: Runtime, tag: str, since: datetime) -> list[Any]:
    return await runtime.historian.raw(tag, since - timedelta(minutes=1), utcnow() + timedelta(hours=1))


async def good_stored(
    runtime: Runtime, tag: str, since: datetime, count: int
) -> list[tuple[datetime, float]]:
    """The good samples of ``tag``, once the historian holds at least ``count`` of them."""
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        good = [(s.ts, s.value) for s in await stored(runtime, tag, since) if s.quality is Quality.GOOD]
        if len(good) >= count:
            return good
        assert asyncio.get_running_loop().time() < deadline, (
            f"{count} values of {tag} stored (got {len(good)})"
        )
        await asyncio.sleep(0.1)


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_mosquitto_killed_for_30_s_during_publishing_loses_nothing_at_qos_1(
    broker: Broker, tmp_path: Path
) -> None:
    async with running(gauge_site(broker), tmp_path) as runtime:
        states: list[ConnectionState] = []

        def seen(status: StationStatus) -> None:
            if status.station == "pluvio":
                states.append(status.state)

        runtime.bus.subscribe(STATION_STATUS, seen)
        await eventually(lambda: connected(runtime, "pluvio"), 60, "the gauge's broker session")
        gauge = Gauge(broker)
        forwarding = asyncio.create_task(gauge.forward())
        t0 = utcnow().replace(microsecond=0) - timedelta(seconds=400)  # measures of the last minutes
        readings = [(t0 + timedelta(seconds=i), round(0.5 * i, 1)) for i in range(400)]

        async def measure(first: int, last: int) -> None:
            for ts, mm in readings[first:last]:
                gauge.measure(ts, mm)
                await asyncio.sleep(0.05)  # the gauge's own pace: twenty readings a second

        await measure(0, 100)
        await eventually(lambda: gauge.sent >= 60, 60, "the first readings at the broker")
        broker.kill()
        await measure(100, 300)  # measured while the broker is down (10 s)
        await asyncio.sleep(20)  # the outage lasts 30 s in all
        await eventually(lambda: not connected(runtime, "pluvio"), 30, "the link seen lost")
        await asyncio.to_thread(broker.start)
        await measure(300, 400)
        await eventually(lambda: gauge.queue.empty() and gauge.sent >= 400, 120, "the gauge's backlog sent")
        good = await good_stored(runtime, "pluvio.rain", t0, len(readings))
        forwarding.cancel()
        assert good == readings  # each once, in order, with the gauge's own time and value
        samples = await stored(runtime, "pluvio.rain", t0)
        assert any(s.quality is Quality.BAD for s in samples), "the outage is in the history as a loss"
        assert ConnectionState.DISCONNECTED in states and states[-1] is ConnectionState.CONNECTED
        assert gauge.outages >= 1


async def test_what_the_gauge_sent_while_we_were_away_arrives_from_the_persistent_session(
    broker: Broker, tmp_path: Path
) -> None:
    t0 = utcnow().replace(microsecond=0) - timedelta(seconds=20)
    async with running(gauge_site(broker), tmp_path) as runtime:
        await eventually(lambda: connected(runtime, "pluvio"), 60, "the first session")
    gauge = Gauge(broker)
    forwarding = asyncio.create_task(gauge.forward())
    for i in range(20):  # published while no supervision runs: the broker keeps them for us
        gauge.measure(t0 + timedelta(seconds=i), float(i))
    await eventually(lambda: gauge.sent >= 20, 60, "the readings at the broker")
    forwarding.cancel()
    async with running(gauge_site(broker), tmp_path) as runtime:
        good = await good_stored(runtime, "pluvio.rain", t0, 20)
        assert good == [(t0 + timedelta(seconds=i), float(i)) for i in range(20)]
        await eventually(lambda: "pluvio.rain" in runtime.latest, 30, "the live value")
        assert runtime.latest["pluvio.rain"].value == 19.0  # and the live picture has the newest


async def test_readings_stored_are_acknowledged_and_never_delivered_again(
    broker: Broker, tmp_path: Path
) -> None:
    """A burst's acknowledgements (written together once the batch is stored) reach the broker:
    the next session of the same client gets nothing of it again, only what came after."""
    t0 = utcnow().replace(microsecond=0) - timedelta(minutes=10)
    gauge = Gauge(broker)
    forwarding = asyncio.create_task(gauge.forward())
    try:
        async with running(gauge_site(broker), tmp_path) as runtime:
            await eventually(lambda: connected(runtime, "pluvio"), 60, "the first session")
            link = runtime.links[0]
            for i in range(300):  # a store-and-forward gauge emptying its memory at once
                gauge.measure(t0 + timedelta(seconds=i), float(i))
            await good_stored(runtime, "pluvio.rain", t0, 300)
    finally:
        forwarding.cancel()
    async with aiomqtt.Client(
        "127.0.0.1", broker.port, identifier=link.client_id, clean_session=False
    ) as again:
        await again.subscribe(RAIN, qos=1)
        await again.publish(RAIN, json.dumps({"ts": utcnow().isoformat(), "mm": -1.0}), qos=1)
        received = []
        async with asyncio.timeout(60):
            async for message in again.messages:  # the broker sends a session's backlog first
                received.append(json.loads(message.payload))  # type: ignore[arg-type]
                if received[-1]["mm"] == -1.0:
                    break
    assert [r["mm"] for r in received] == [-1.0], f"{len(received) - 1} readings delivered again"


async def test_a_gauge_silent_behind_a_live_broker_is_lost_then_back_with_its_next_value(
    broker: Broker, tmp_path: Path
) -> None:
    async with running(gauge_site(broker, expected_period_s=1.5), tmp_path) as runtime:
        await eventually(lambda: connected(runtime, "pluvio"), 60, "the broker session")

        async def reading(mm: float) -> None:
            async with aiomqtt.Client("127.0.0.1", broker.port) as client:
                await client.publish(RAIN, json.dumps({"ts": utcnow().isoformat(), "mm": mm}), qos=1)

        await reading(4.0)
        await eventually(lambda: not connected(runtime, "pluvio"), 30, "the silent gauge lost")
        assert "no value for 1.5 s" in runtime.stations["pluvio"].detail
        assert runtime.latest["pluvio.rain"].quality is Quality.BAD
        await reading(5.0)
        await eventually(lambda: connected(runtime, "pluvio"), 30, "the gauge back")
        await eventually(lambda: runtime.latest["pluvio.rain"].quality is Quality.GOOD, 30, "its value good")
        assert runtime.latest["pluvio.rain"].value == 5.0


async def test_a_bad_payload_is_rejected_with_a_located_line_and_counted(
    broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from core.api.metrics import Metrics, prometheus_text

    async with running(gauge_site(broker), tmp_path) as runtime:
        await eventually(lambda: connected(runtime, "pluvio"), 60, "the broker session")
        stamp = utcnow().replace(microsecond=0).isoformat()
        payloads = [b"not json", json.dumps({"ts": stamp}), json.dumps({"ts": "yesterday", "mm": 1}),
                    json.dumps({"ts": stamp, "mm": "3"}), json.dumps({"ts": stamp, "mm": 2.5})]  # fmt: skip
        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            for payload in payloads:
                await client.publish(RAIN, payload, qos=1)
        await eventually(lambda: "pluvio.rain" in runtime.latest, 30, "the good reading")
        link = runtime.links[0]
        await eventually(lambda: getattr(link, "rejected", 0) == 4, 30, "four rejections counted")
        assert runtime.latest["pluvio.rain"].value == 2.5
        lines = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
        assert any(f"topic {RAIN} (tag pluvio.rain)" in line and "not json" in line for line in lines)
        assert any("has no $.mm" in line for line in lines)
        assert any("'yesterday' is no ISO 8601 time" in line for line in lines)
        assert any("'3' is not a finite number" in line for line in lines)
        assert 'ecreteur_samples_rejected_total{station="pluvio"} 4' in prometheus_text(runtime, Metrics())


THREE_SOURCES = """\
site: {name: Trois sources}
stations:
  - {id: lauragais, name: Barrage de la Ganguise, publishing_interval_ms: 200, reconnect_max_delay_s: 1,
     endpoint: "opc.tcp://127.0.0.1:@STATION_PORT@/ecreteur/lauragais"}
  - {id: pluvio, name: Pluviomètre de Baraigne, source: mqtt, endpoint: "mqtt://127.0.0.1:@MQTT_PORT@",
     reconnect_max_delay_s: 1}
  - {id: sonde, name: Sonde du Fresquel, source: api, expected_period_s: 5}
tags:
  - {id: lauragais.level, station: lauragais, node: "ns=2;s=Level", unit: m, label: {fr: Niveau, en: Level}}
  - {id: pluvio.rain, station: pluvio, unit: mm/h, label: {fr: Pluie, en: Rain},
     mqtt: {topic: eaux/pluvio/rain}}
  - {id: sonde.level, station: sonde, unit: m, label: {fr: Hauteur d'eau, en: Water height}}
alarms:
  - {id: haut, tags: "*.level", kind: limits, limits: {HH: {value: 0.5}}}
  - {id: pluie, tags: pluvio.rain, kind: limits, limits: {HH: {value: 20}}}
  - {id: liaison, tags: "*", kind: communication, priority: high}
api: {port: @API_PORT@}
"""


def three_sources_yaml(twilio: Any) -> str:
    """One policy per station, so that each station's alarm is its own page; critical alarms only
    (a link lost at start-up, before the stations answer, is not what this test pages)."""
    from tests.integration.paging_bench import roster
    from tests.integration.paging_peers import twilio_section

    level = {"targets": [{"person": "alice"}], "channels": ["sms"], "delay_min": 30}
    stations = ("lauragais", "pluvio", "sonde")
    sections = {
        "roster": roster(utcnow()),
        "escalation": {"routes": [{"stations": [s], "priorities": ["critical"], "policy": s}
                                  for s in stations],
                       "policies": [{"id": s, "levels": [level]} for s in stations]},
        "notify": {"twilio": twilio_section(twilio)},
    }  # fmt: skip
    paging = "".join(f"{key}: {json.dumps(value, default=str)}\n" for key, value in sections.items())
    return THREE_SOURCES + paging.replace('"twilio_token"', "!secret twilio_token")


@pytest.mark.slow
@pytest.mark.paging
@pytest.mark.timeout(300)
@pytest.mark.usefixtures("credentials")
def test_an_opcua_dam_an_mqtt_gauge_and_a_rest_probe_give_values_history_alarms_and_pages_alike(
    broker: Broker, tmp_path: Path, twilio: Any
) -> None:
    import httpx

    from tests.conftest import wait_until
    from tests.integration.api_server import ApiServer
    from tests.integration.paging_bench import ALICE

    server = ApiServer(tmp_path, site=three_sources_yaml(twilio).replace("@MQTT_PORT@", str(broker.port)))
    server.start()
    try:
        read, ingest = server.headers("read"), server.headers("ingest")

        def get(path: str) -> Any:
            answer = httpx.get(f"{server.url}{path}", headers=read, timeout=10)
            assert answer.status_code == 200, answer.text
            return answer.json()

        async def publish() -> None:
            async with aiomqtt.Client("127.0.0.1", broker.port) as client:
                await client.publish(RAIN, b"25.5", qos=1)

        wait_until(lambda: get("/stations")[1]["state"] == "connected", "the gauge's broker session", 120)
        asyncio.run(publish())
        now = utcnow().isoformat()
        posted = httpx.post(f"{server.url}/samples", headers=ingest, timeout=10,
                            json={"samples": [{"tag": "sonde.level", "ts": now, "value": 1.25}]})  # fmt: skip
        assert posted.status_code == 200 and posted.json()["accepted"] == 1, posted.text

        def states() -> dict[str, str]:
            return {station["id"]: station["state"] for station in get("/stations")}

        wait_until(lambda: set(states().values()) == {"connected"}, "the three stations connected", 120)
        assert [(s["id"], s["source"]) for s in get("/stations")] == [
            ("lauragais", "opcua"),
            ("pluvio", "mqtt"),
            ("sonde", "api"),
        ]
        tags = ("lauragais.level", "pluvio.rain", "sonde.level")

        def has_values() -> bool:
            return all(
                httpx.get(f"{server.url}/tags/{tag}/latest", headers=read).status_code == 200 for tag in tags
            )

        wait_until(has_values, "a value of each tag", 60)
        latest = {tag: get(f"/tags/{tag}/latest") for tag in tags}
        assert {tag: sample["quality"] for tag, sample in latest.items()} == dict.fromkeys(latest, "good")
        assert (latest["pluvio.rain"]["value"], latest["sonde.level"]["value"]) == (25.5, 1.25)
        for tag in ("pluvio.rain", "sonde.level"):
            history = get(f"/tags/{tag}/history?agg=raw")
            assert [point["value"] for point in history["samples"]][-1] == latest[tag]["value"]

        def raised() -> set[str]:
            return {a["tag"] for a in get("/alarms") if a["active"] and a["kind"] == "HH"}

        wait_until(
            lambda: raised() == {"lauragais.level", "pluvio.rain", "sonde.level"}, "three HH alarms", 60
        )
        wait_until(lambda: len(twilio.pages("sms")) >= 3, "a page for each station", 60)
        bodies = [page.form["Body"] for page in twilio.pages("sms")]
        for name in ("Barrage de la Ganguise", "Pluviomètre de Baraigne", "Sonde du Fresquel"):
            assert sum(name in body for body in bodies) == 1, (name, bodies)
        assert {page.form["To"] for page in twilio.pages("sms")} == {ALICE} and not twilio.invalid()

        # the probe falls silent: its link is lost after expected_period_s, as a dropped station's
        wait_until(lambda: states()["sonde"] == "disconnected", "the silent probe's link lost", 60)
        assert get("/tags/sonde.level/latest")["quality"] == "bad"
        lost = [a for a in get("/alarms") if a["kind"] == "communication" and a["active"]]
        assert [a["station"] for a in lost] == ["sonde"]
    finally:
        server.stop()


# --- plugins: the example package in tests/plugins/ecreteur_chat, installed by installers/dev.sh ---


class ChatReceiver:
    """A chat tool's incoming webhook on loopback: it keeps each page and checks its signature."""

    SECRET = "chat-signing-key-42"

    def __init__(self) -> None:
        import hashlib
        import hmac
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.pages: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["X-Ecreteur-Timestamp"]
                mac = hmac.new(receiver.SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
                signed = self.headers["X-Ecreteur-Signature"] == f"sha256={mac.hexdigest()}"
                receiver.pages.append({**json.loads(body), "signed": signed})
                self.send_response(200 if signed else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/astreinte"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def plugin_site(chat: ChatReceiver, **extra: Any) -> SiteConfig:
    from tests.integration.paging_bench import roster

    roster_section = roster(utcnow())
    roster_section["people"][0]["contacts"] = {"chat": "@alice"}
    level = {"targets": [{"person": "alice"}], "channels": ["broken", "chat"], "channel_step_min": 0,
             "delay_min": 30}  # fmt: skip
    from core.config.base import SecretRef

    return site(
        [{"id": "sonde", "source": "api", "name": "Sonde du Fresquel"}],
        [{"id": "sonde.level", "station": "sonde", "unit": "m"}],
        alarms=[{"id": "haut", "tags": "sonde.level", "kind": "limits", "limits": {"HH": {"value": 2.0}}}],
        roster=roster_section,
        escalation={"routes": [{"policy": "crue"}], "policies": [{"id": "crue", "levels": [level]}],
                    "group_window_s": 0},
        notify={"channels": [
            {"id": "chat", "plugin": "signed_webhook",
             "settings": {"url": chat.url, "secret": SecretRef("chat_key")}},
            {"id": "broken", "plugin": "broken_webhook"},
        ]},
        **extra,
    )  # fmt: skip


@pytest.fixture
def chat(credentials: Path) -> Iterator[ChatReceiver]:
    receiver = ChatReceiver()
    (credentials / "chat_key").write_text(receiver.SECRET, encoding="utf-8")
    yield receiver
    receiver.close()


def test_ecreteur_plugins_lists_the_example_package() -> None:
    import subprocess
    import sys

    listed = subprocess.run([sys.executable, "-m", "core.cli", "plugins"], capture_output=True, text=True,
                            check=True).stdout  # fmt: skip
    assert "plugin 'signed_webhook' (ecreteur.channels, package ecreteur-chat-example" in listed, (
        "installers/dev.sh installs tests/plugins/ecreteur_chat"
    )
    assert (
        "plugin 'rain_bar' (ecreteur.cards" in listed and "plugin 'broken_source' (ecreteur.sources" in listed
    )


async def test_the_plugins_channel_receives_a_signed_page_after_a_plugin_that_raises(
    chat: ChatReceiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from core.model import Sample

    async with running(plugin_site(chat), tmp_path) as runtime:
        await runtime.ingest([Sample("sonde.level", utcnow(), 2.6)])
        await eventually(lambda: chat.pages, 60, "a page at the chat")
        page = chat.pages[0]
        assert page["signed"] and page["to"] == "@alice" and page["language"] == "fr"
        assert "Sonde du Fresquel" in page["subject"] and "2,60 m (seuil 2,00 m)" in page["text"]
        assert "Répondez OK 1 pour acquitter." in page["text"]
        assert runtime.cascade is not None
        tried = [(d.channel, d.state) for d in runtime.cascade.store.deliveries(1)]
        assert tried[:2] == [("broken", "failed"), ("chat", "sent")]
    raised = [r.getMessage() for r in caplog.records if "raised while delivering" in r.getMessage()]
    assert raised and "plugin 'broken_webhook' (ecreteur.channels, package ecreteur-chat-example" in raised[0]


async def test_a_plugin_source_that_raises_stops_alone_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from core.model import Sample

    config = site(
        [{"id": "bus", "source": "broken_source"}, {"id": "sonde", "source": "api"}],
        [{"id": "bus.flow", "station": "bus"}, {"id": "sonde.level", "station": "sonde"}],
    )
    async with running(config, tmp_path) as runtime:
        await eventually(
            lambda: "crashed" in runtime.stations["bus"].detail, 30, "the source's failure shown"
        )
        assert runtime.stations["bus"].state is ConnectionState.DISCONNECTED
        await runtime.ingest([Sample("sonde.level", utcnow(), 1.0)])
        assert connected(runtime, "sonde")
    assert any("station bus: its broken_source source stopped" in r.getMessage() for r in caplog.records)


async def test_the_plugins_card_shows_on_a_dashboard_beside_one_that_raises(
    tmp_path: Path, qtbot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QLabel, QProgressBar

    from core.model import Sample
    from hmi.style import DAY
    from hmi.window import MainWindow

    cards = [{"type": "rain_bar", "tag": "sonde.rain", "options": {"max": 50}, "x": 0, "w": 6},
             {"type": "broken_card", "tag": "sonde.rain", "x": 6, "w": 6}]  # fmt: skip
    config = site(
        [{"id": "sonde", "source": "api"}],
        [{"id": "sonde.rain", "station": "sonde", "unit": "mm/h"}],
        dashboards=[{"id": "pluie", "title": {"fr": "Pluie"}, "cards": cards}],
    )
    async with running(config, tmp_path) as runtime:
        window = MainWindow(runtime, DAY, QSettings(str(tmp_path / "hmi.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(window)
        window.show()
        await runtime.ingest([Sample("sonde.rain", utcnow(), 12.5)])
        bar = await eventually(lambda: window.findChild(QProgressBar, "rain_bar"), 10, "the rain bar")
        await eventually(lambda: bar.value() == 125, 10, "the bar at 12.5 mm/h")
        assert bar.text() == "12.5 mm/h"
        failed = window.findChild(QLabel, "plugin_failed")
        assert (
            failed is not None and "broken_card" in failed.text() and "this card cannot draw" in failed.text()
        )
        window.close()
    assert any("plugin 'broken_card'" in r.getMessage() for r in caplog.records)


PROBE_SITE = """\
site: {name: Sonde}
stations:
  - {id: sonde, name: Sonde du Fresquel, source: api, expected_period_s: 600}
tags:
  - {id: sonde.level, station: sonde, unit: m, label: {fr: Hauteur d'eau, en: Water height}}
api: {port: @API_PORT@}
"""


@pytest.mark.slow
async def test_a_desktop_client_follows_an_api_station_through_its_server(tmp_path: Path) -> None:
    import httpx

    from core.client.session import resume
    from core.config import load_config
    from tests.integration.api_server import ApiServer

    server = ApiServer(tmp_path / "server", site=PROBE_SITE)
    server.root.mkdir()
    await asyncio.to_thread(server.start, False)
    runtime: Runtime | None = None
    try:
        session = await resume(f"http://127.0.0.1:{server.api_port}", server.tokens["read"])
        runtime = Runtime(load_config(server.config), data_dir=tmp_path / "desktop", session=session)
        await runtime.start()
        async with httpx.AsyncClient() as client:
            posted = await client.post(f"{server.url}/samples", headers=server.headers("ingest"),
                                       json={"samples": [{"tag": "sonde.level", "ts": utcnow().isoformat(),
                                                          "value": 1.25}]})  # fmt: skip
        assert posted.status_code == 200, posted.text
        desktop = runtime
        await eventually(lambda: "sonde.level" in desktop.latest, 60, "the posted value on the desktop")
        assert desktop.latest["sonde.level"].value == 1.25
        await eventually(lambda: connected(desktop, "sonde"), 30, "the server's state of the probe")
        await asyncio.to_thread(server.stop)
        await eventually(lambda: not connected(desktop, "sonde"), 30, "the probe lost with the server")
        assert desktop.latest["sonde.level"].quality is Quality.BAD
    finally:
        if runtime is not None:
            await runtime.stop()
        await asyncio.to_thread(server.stop)


def tls_broker(tmp_path: Path) -> tuple[Broker, Path]:
    """A broker that takes only TLS and one account (mosquitto_passwd), as a site's would."""
    import subprocess

    from tests.integration.paging_peers import self_signed

    cert, key = self_signed(tmp_path)
    accounts = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(accounts), "supervision", "s3cret-mqtt"], check=True)
    broker = Broker(tmp_path / "tls", extra=f"certfile {cert}\nkeyfile {key}\nallow_anonymous false\n"
                                           f"password_file {accounts}\n")  # fmt: skip
    broker.start()
    return broker, cert


async def test_a_broker_over_tls_with_its_password_from_the_secrets_and_a_wrong_one_refused(
    tmp_path: Path, credentials: Path
) -> None:
    import ssl

    from core.config.base import SecretRef

    broker, cert = tls_broker(tmp_path)
    (credentials / "pluvio_mqtt").write_text("s3cret-mqtt", encoding="utf-8")
    (credentials / "old_mqtt").write_text("last-years-password", encoding="utf-8")

    def tls_site(secret: str) -> SiteConfig:
        station = {
            "id": "pluvio",
            "source": "mqtt",
            "endpoint": f"mqtts://localhost:{broker.port}",
            "user": "supervision",
            "password": SecretRef(secret),
            "mqtt": {"ca_file": str(cert)},
        }
        tag = {"id": "pluvio.rain", "station": "pluvio", "mqtt": {"topic": RAIN}}
        return site([station], [tag])

    try:
        async with running(tls_site("pluvio_mqtt"), tmp_path / "good") as runtime:
            await eventually(lambda: connected(runtime, "pluvio"), 60, "the TLS session")
            context = ssl.create_default_context(cafile=str(cert))
            account = {"username": "supervision", "password": "s3cret-mqtt"}
            async with aiomqtt.Client("localhost", broker.port, tls_context=context, **account) as client:
                await client.publish(RAIN, b"7.5", qos=1)
            await eventually(lambda: "pluvio.rain" in runtime.latest, 30, "the value over TLS")
            assert runtime.latest["pluvio.rain"].value == 7.5
        async with running(tls_site("old_mqtt"), tmp_path / "bad") as runtime:
            await eventually(lambda: runtime.stations["pluvio"].fault == "authentication", 60, "the refusal")
            status = runtime.stations["pluvio"]
            assert status.state is ConnectionState.DISCONNECTED and "refused" in status.detail
            assert runtime.links[0].retry_in >= 50  # a person must act: no retry every second
    finally:
        broker.stop()


async def test_an_attempt_whose_connack_came_too_late_leaves_no_client_behind(broker: Broker) -> None:
    """aiomqtt gives up waiting for the CONNACK but leaves paho's socket open: the late CONNACK
    would make it a second client on the persistent session, acknowledging messages nobody reads."""
    from core.acquisition.mqtt import dispose

    async def slow_first_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", broker.port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, delay: float) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    await asyncio.sleep(delay)
                    delay = 0.0
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer, 0.0), pipe(up_reader, writer, 2.0))

    line = await asyncio.start_server(slow_first_answer, "127.0.0.1", 0)
    port = line.sockets[0].getsockname()[1]
    client = aiomqtt.Client("127.0.0.1", port, identifier="late", clean_session=False, timeout=0.5)
    with pytest.raises(aiomqtt.MqttError):
        async with client:
            pass
    dispose(client)
    paho = client._client
    await asyncio.sleep(2.5)  # the CONNACK arrives now
    assert not paho.is_connected()
    line.close()


GAUGE_SITE = """\
site: {name: Pluviomètre}
stations:
  - {id: pluvio, name: Pluviomètre de Baraigne, source: mqtt, endpoint: "mqtt://127.0.0.1:@MQTT_PORT@",
     reconnect_max_delay_s: 1}
tags:
  - {id: pluvio.rain, station: pluvio, unit: mm/h, label: {fr: Pluie, en: Rain},
     mqtt: {topic: eaux/pluvio/rain, value: $.mm, time: $.ts}}
api: {port: @API_PORT@}
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_a_server_killed_while_the_gauge_publishes_stores_every_reading_once_after_its_restart(
    broker: Broker, tmp_path: Path
) -> None:
    """The broker forgets a message only once the historian holds it (manual acknowledgements):
    what the killed server had received but not stored comes again in its next session."""
    import httpx

    from tests.integration.api_server import ApiServer

    server = ApiServer(tmp_path, site=GAUGE_SITE.replace("@MQTT_PORT@", str(broker.port)))
    await asyncio.to_thread(server.start, False)
    gauge = Gauge(broker)
    forwarding = asyncio.create_task(gauge.forward())
    t0 = utcnow().replace(microsecond=0) - timedelta(seconds=600)
    readings = [(t0 + timedelta(seconds=i), float(i)) for i in range(600)]
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers("read")) as api:

            async def stations() -> str:
                return str((await api.get("/stations")).json()[0]["state"])

            deadline = asyncio.get_running_loop().time() + 120
            while await stations() != "connected":
                assert asyncio.get_running_loop().time() < deadline, "the server's broker session"
                await asyncio.sleep(0.1)
            for ts, mm in readings[:300]:
                gauge.measure(ts, mm)
            await eventually(lambda: gauge.sent >= 150, 60, "half the burst at the broker")
            server.server.kill()  # SIGKILL in the middle of the burst
            await asyncio.to_thread(server.server.wait)
            for ts, mm in readings[300:]:  # the gauge goes on while no server runs
                gauge.measure(ts, mm)
            await eventually(lambda: gauge.queue.empty() and gauge.sent >= 600, 120, "every reading sent")
            await asyncio.to_thread(server.start, False)
            window = {"from": (t0 - timedelta(minutes=1)).isoformat(), "agg": "raw", "max_points": 100_000}

            async def good() -> list[tuple[datetime, float]]:
                body = (await api.get("/tags/pluvio.rain/history", params=window)).json()
                return [(datetime.fromisoformat(p["ts"]), p["value"]) for p in body["samples"]
                        if p["quality"] == "good"]  # fmt: skip

            deadline = asyncio.get_running_loop().time() + 120
            while len(stored_now := await good()) < len(readings):
                assert asyncio.get_running_loop().time() < deadline, f"600 stored (got {len(stored_now)})"
                await asyncio.sleep(0.2)
            assert stored_now == readings  # each once, none lost with the killed server
    finally:
        forwarding.cancel()
        await asyncio.to_thread(server.stop)


async def test_a_value_stamped_ahead_of_our_clock_is_stored_at_our_time(
    broker: Broker, tmp_path: Path
) -> None:
    async with running(gauge_site(broker), tmp_path) as runtime:
        await eventually(lambda: connected(runtime, "pluvio"), 60, "the broker session")
        ahead = (utcnow() + timedelta(hours=1)).isoformat()  # the gauge's clock is an hour fast
        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            await client.publish(RAIN, json.dumps({"ts": ahead, "mm": 3.0}), qos=1)
        await eventually(lambda: "pluvio.rain" in runtime.latest, 30, "the value")
        assert runtime.latest["pluvio.rain"].ts <= utcnow()  # not frozen until that hour
        assert runtime.links[0].restamped == 1


async def test_poison_messages_are_counted_and_the_good_ones_after_them_stored_across_a_restart(
    broker: Broker, tmp_path: Path
) -> None:
    """A 401-digit number, or a time outside what a datetime holds in UTC, stopped the station for
    good (the broker redelivered it at every start): now each is refused, acknowledged and counted,
    and the readings after it are stored, in this session and in the next one."""
    t0 = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    poison = [
        json.dumps({"ts": t0.isoformat(), "mm": 10**400}).encode(),  # valid JSON, too large for a float
        json.dumps({"ts": "0001-01-01T00:00:00+14:00", "mm": 1.0}).encode(),
        json.dumps({"ts": "9999-12-31T23:59:59-14:00", "mm": 1.0}).encode(),
        json.dumps({"ts": "1969-06-01T00:00:00+00:00", "mm": 1.0}).encode(),  # older than any retention
        json.dumps({"ts": t0.isoformat(), "mm": 1.7976931348623157e308}).encode(),  # no rain gauge reads this
    ]

    async def publish(payloads: list[bytes]) -> None:
        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            for payload in payloads:
                await client.publish(RAIN, payload, qos=1)

    def readings(start: int, count: int) -> list[bytes]:
        return [json.dumps({"ts": (t0 + timedelta(seconds=i)).isoformat(), "mm": float(i)}).encode()
                for i in range(start, start + count)]  # fmt: skip

    async with running(gauge_site(broker), tmp_path) as runtime:
        await eventually(lambda: connected(runtime, "pluvio"), 60, "the broker session")
        client_id = runtime.links[0].client_id  # type: ignore[attr-defined]
        await publish(poison + readings(1, 5))
        await good_stored(runtime, "pluvio.rain", t0, 5)
        assert runtime.links[0].rejected == len(poison)  # type: ignore[attr-defined]
        assert connected(runtime, "pluvio")
    # while the server is away, the broker keeps the next poison and the next readings for it
    async with aiomqtt.Client("127.0.0.1", broker.port) as gauge:
        await gauge.publish(RAIN, poison[0], qos=1)
        for payload in readings(6, 5):
            await gauge.publish(RAIN, payload, qos=1)
    async with running(gauge_site(broker), tmp_path) as runtime:
        assert runtime.links[0].client_id == client_id  # type: ignore[attr-defined]  # the same session
        good = await good_stored(runtime, "pluvio.rain", t0, 10)
        assert [value for _ts, value in good] == [float(i) for i in range(1, 11)]
        assert runtime.links[0].rejected == 1  # type: ignore[attr-defined]
    async with running(gauge_site(broker), tmp_path) as runtime:  # nothing left to redeliver
        await eventually(lambda: connected(runtime, "pluvio"), 60, "a third session")
        await publish(readings(11, 1))
        await good_stored(runtime, "pluvio.rain", t0, 11)
        assert runtime.links[0].rejected == 0  # type: ignore[attr-defined]
