"""Values that never lie and stations we can trust, against our simulator and node-opcua.

The network between the supervisor and a station is a TCP proxy that a test can cut (the
station staying up) or block (an outage of the line, the station logging on).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.acquisition.opcua import application_uri, create_certificate
from core.acquisition.trust import CertificateInfo, load_der
from core.bus import SAMPLES
from core.config.base import SecretRef
from core.model import AlarmStatus, ConnectionState, Quality, Sample, utcnow
from core.runtime import Runtime
from core.sim.scenario import load_dams, load_scenario
from core.sim.station import DamStation
from tests.conftest import REPO, eventually, free_port, site
from tests.integration.conftest import (
    Process,
    node_station_process,
    start_runtime,
    station_log,
    stop_runtimes,
    stored_series,
)
from tests.integration.tcp_proxy import CuttableProxy

PASSWORD = "écluse-42"
COMMUNICATION = [{"id": "link", "kind": "communication", "tags": "*", "priority": "high"}]


@pytest.fixture
async def stations() -> AsyncIterator[list[DamStation]]:
    running: list[DamStation] = []
    yield running
    for station in running:
        await station.stop()


@pytest.fixture
async def proxies() -> AsyncIterator[list[CuttableProxy]]:
    running: list[CuttableProxy] = []
    yield running
    for proxy in running:
        await proxy.stop()


async def dam(running: list[DamStation], port: int | None = None, **options: Any) -> DamStation:
    params = load_dams().dams[0].parameters()
    station = DamStation("lauragais", params, load_scenario("flood-100y"), port=port or free_port(),
                         speed=600, tick_s=0.1, **options)  # fmt: skip
    running.append(station)
    await station.start()
    return station


async def proxy_to(running: list[CuttableProxy], port: int) -> CuttableProxy:
    proxy = CuttableProxy(port)
    running.append(proxy)
    await proxy.start()
    return proxy


SIM_TAGS = [
    {"id": "lauragais.level", "station": "lauragais", "node": "ns=2;s=Level"},
    {"id": "lauragais.door", "station": "lauragais", "node": "ns=2;s=DoorOpen", "kind": "discrete"},
    {"id": "lauragais.gate", "station": "lauragais", "node": "ns=2;s=GateOpening"},
]
STATIC = ("lauragais.door", "lauragais.gate")  # never change during the flood: sent once per session


def sim_site(endpoint: str, tags: Sequence[dict[str, Any]] = SIM_TAGS, **station: Any) -> Any:
    return site([{"id": "lauragais", "endpoint": endpoint, "publishing_interval_ms": 200, **station}],
                list(tags), alarms=COMMUNICATION)  # fmt: skip


def good(runtime: Runtime, *tags: str) -> bool:
    return all((s := runtime.latest.get(tag)) is not None and s.quality is Quality.GOOD for tag in tags)


def first_of_session(runtime: Runtime, session: int, tags: Sequence[str]) -> Callable[[], dict[str, Sample]]:
    """Each tag's first sample in the link's ``session``-th connection, once all have one.

    Per tag, not per publish: a station may split its initial values over two publishes (it
    creates the monitored items one after another while its publishing timer runs).
    """
    link, firsts = runtime.links[0], {}

    def record(batch: Sequence[Sample]) -> None:
        if link.connections == session:
            for sample in batch:
                firsts.setdefault(sample.tag, sample)

    runtime.bus.subscribe(SAMPLES, record)

    def first() -> dict[str, Sample]:
        return dict(firsts) if all(tag in firsts for tag in tags) else {}

    return first


# -- a session drop with the station still up -------------------------------------------------


async def test_session_cut_static_tags_are_good_again_in_the_first_publish(
    tmp_path: Path, runtimes: list[Runtime], stations: list[DamStation], proxies: list[CuttableProxy]
) -> None:
    station = await dam(stations)
    proxy = await proxy_to(proxies, int(station.endpoint.rsplit(":", 1)[1].split("/")[0]))
    runtime = await start_runtime(
        runtimes, sim_site(f"opc.tcp://127.0.0.1:{proxy.port}/ecreteur/lauragais"), tmp_path
    )
    link = runtime.links[0]
    await eventually(lambda: good(runtime, "lauragais.level", *STATIC), what="first values")
    first = first_of_session(runtime, 2, STATIC)

    proxy.cut()  # the session drops; the station keeps running
    await eventually(lambda: runtime.latest["lauragais.door"].quality is Quality.BAD, what="loss marker")
    await eventually(lambda: link.connections == 2 and first(), timeout=60, what="the second session")

    # the station re-sent the unchanged values with the new session: good again, at once
    assert {tag for tag, s in first().items() if s.quality is Quality.GOOD} >= set(STATIC)
    assert good(runtime, "lauragais.level", *STATIC)
    # and the historian agrees on what the latest value is
    for tag in STATIC:
        stored = await eventually(
            lambda tag=tag: _good_latest(runtime, tag), 60, f"the historian's latest {tag} good again"
        )
        assert stored.value == runtime.latest[tag].value


async def _good_latest(runtime: Runtime, tag: str) -> Sample | None:
    """The historian's latest sample of ``tag`` when it is good (the loss marker is not)."""
    latest = await runtime.historian.latest(tag)
    return latest if latest is not None and latest.quality is Quality.GOOD else None


@pytest.mark.nodeopcua
async def test_session_cut_node_opcua_door_contact_is_good_again(
    tmp_path: Path, runtimes: list[Runtime], process_peers: list[Process], proxies: list[CuttableProxy]
) -> None:
    port = free_port()
    peer = node_station_process(port, tmp_path / "pki-node")
    process_peers.append(peer)
    await peer.start()
    proxy = await proxy_to(proxies, port)
    config = site(
        [{"id": "nodestation", "endpoint": f"opc.tcp://127.0.0.1:{proxy.port}/station",
          "publishing_interval_ms": 200}],
        [{"id": "nodestation.level", "station": "nodestation", "node": "ns=1;s=Level"},
         {"id": "nodestation.door", "station": "nodestation", "node": "ns=1;s=DoorOpen", "kind": "discrete"}],
    )  # fmt: skip
    runtime = await start_runtime(runtimes, config, tmp_path)
    link = runtime.links[0]
    await eventually(lambda: good(runtime, "nodestation.level", "nodestation.door"), what="first values")
    first = first_of_session(runtime, 2, ["nodestation.door"])
    proxy.cut()
    await eventually(lambda: runtime.latest["nodestation.door"].quality is Quality.BAD, what="loss marker")
    await eventually(lambda: link.connections == 2 and first(), timeout=60, what="the second session")
    assert first()["nodestation.door"].quality is Quality.GOOD
    assert runtime.latest["nodestation.door"].value == 1.0
    await eventually(lambda: _good_latest(runtime, "nodestation.door"), 60, "the historian's door good again")


# -- clocks -----------------------------------------------------------------------------------


async def test_a_slow_station_clock_is_reported_alarmed_and_does_not_invalidate_values(
    tmp_path: Path, runtimes: list[Runtime], stations: list[DamStation], proxies: list[CuttableProxy]
) -> None:
    station = await dam(stations, clock_offset_s=-300)  # five minutes slow
    proxy = await proxy_to(proxies, int(station.endpoint.rsplit(":", 1)[1].split("/")[0]))
    config = sim_site(f"opc.tcp://127.0.0.1:{proxy.port}/ecreteur/lauragais", max_clock_skew_s=60)
    runtime = await start_runtime(runtimes, config, tmp_path)
    link = runtime.links[0]
    await eventually(lambda: good(runtime, "lauragais.level"), what="first values")

    skew = await eventually(lambda: runtime.stations["lauragais"].clock_skew_s, what="the skew reported")
    assert -310 < skew < -290
    clock = runtime.alarms.alarms["link:lauragais:clock"]
    await eventually(lambda: clock.state.status is AlarmStatus.UNACK, what="the clock alarm")
    assert "300" in clock.message("fr") or "299" in clock.message("fr") or "301" in clock.message("fr")

    markers: list[Sample] = []
    runtime.bus.subscribe(SAMPLES, lambda batch: markers.extend(s for s in batch if s.quality is Quality.BAD))
    proxy.cut()
    await eventually(lambda: markers, what="loss marker")
    await eventually(lambda: link.connections == 2, timeout=60, what="reconnection")
    # the station's values, five minutes "older" than our clock, are current again at once
    await eventually(lambda: good(runtime, "lauragais.level"), what="the level good after reconnection")
    assert runtime.latest["lauragais.level"].ts > markers[0].ts
    assert abs((markers[0].ts - utcnow()).total_seconds() + 300) < 10, "marker not on the station's clock"


async def test_one_sample_an_hour_ahead_does_not_freeze_the_live_value(
    tmp_path: Path, runtimes: list[Runtime], stations: list[DamStation]
) -> None:
    station = await dam(stations)
    runtime = await start_runtime(runtimes, sim_site(station.endpoint), tmp_path)
    link = runtime.links[0]
    await eventually(lambda: good(runtime, "lauragais.level"), what="first values")
    await station.write("Level", 99.0, station.now() + timedelta(hours=1))
    await eventually(lambda: link.restamped == 1, what="the future sample")
    # the level goes on following the station, never stuck on the bogus sample
    await eventually(
        lambda: runtime.latest["lauragais.level"].value < 50 and link.received > 40, what="live values"
    )
    horizon = utcnow() + timedelta(minutes=1)
    stored = await runtime.historian.raw(
        "lauragais.level", utcnow() - timedelta(hours=1), horizon + timedelta(hours=2)
    )
    assert max(s.ts for s in stored) < horizon


# -- a restart of the supervisor during a station's outage ----------------------------------


@pytest.mark.slow
async def test_supervisor_restarted_mid_outage_backfills_the_gap_without_hole_or_duplicate(
    tmp_path: Path, runtimes: list[Runtime], stations: list[DamStation], proxies: list[CuttableProxy]
) -> None:
    station = await dam(stations, history_db=tmp_path / "logger.db")
    proxy = await proxy_to(proxies, int(station.endpoint.rsplit(":", 1)[1].split("/")[0]))
    config = sim_site(f"opc.tcp://127.0.0.1:{proxy.port}/ecreteur/lauragais", tags=SIM_TAGS[:1])
    t0 = utcnow()
    runtime = await start_runtime(runtimes, config, tmp_path)
    await eventually(lambda: runtime.links[0].received > 20, what="live samples")

    proxy.block()  # the line is down; the station goes on logging
    await eventually(lambda: runtime.links[0].state is not ConnectionState.CONNECTED, what="loss detected")
    await stop_runtimes(runtimes)  # the supervisor restarts in the middle of the outage
    ticks = station.ticks
    await eventually(lambda: station.ticks > ticks + 30, what="the station logging during the outage")
    runtime = await start_runtime(runtimes, config, tmp_path)
    await eventually(lambda: runtime.links[0].state is ConnectionState.DISCONNECTED, what="the new attempt")
    proxy.unblock()
    link = runtime.links[0]
    await eventually(lambda: link.connections == 1 and link.backfilled > 30, timeout=60, what="backfill")
    received = link.received
    await eventually(lambda: link.received > received + 10, what="live samples again")
    await stop_runtimes(runtimes)

    stored = await stored_series(tmp_path, "lauragais.level", t0)
    log = await station_log(station.endpoint, station.namespace, "Level", t0)
    # compared from the later of the station's first change and the supervisor's first sample:
    # what the station logged before anyone ever connected is not a gap (nothing to resume from)
    start = max(log[0][0], stored[0][0])
    stored = [(ts, v) for ts, v in stored if ts >= start]
    logged = [(ts, v) for ts, v in log if start <= ts <= stored[-1][0]]
    assert len(stored) == len({ts for ts, _ in stored}), "duplicates in the historian"
    assert stored == logged, "the historian differs from the station's log"


# -- certificates -----------------------------------------------------------------------------


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """The supervisor's client certificate, the station's, and an impostor's."""
    files = {name: tmp_path / "certs" / f"{name}.der" for name in ("client", "station", "impostor")}
    for name, cert in files.items():
        uri = "urn:test:ecreteur" if name == "client" else f"urn:{name}:station"
        create_certificate(cert.with_suffix(".key"), cert, uri, "127.0.0.1")
    return files


@pytest.fixture
def station_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SecretRef:
    directory = tmp_path / "credentials"
    directory.mkdir()
    (directory / "station_password").write_text(PASSWORD, encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(directory))
    return SecretRef("station_password")


def secure(pki: dict[str, Path], **extra: Any) -> dict[str, Any]:
    client = pki["client"]
    key = client.with_suffix(".key")
    return {"mode": "SignAndEncrypt", "certificate": str(client), "private_key": str(key), **extra}


def served_by(pki: dict[str, Path], name: str) -> dict[str, Path]:
    """A station's certificate and key, as DamStation takes them."""
    return {"certificate": pki[name], "private_key": pki[name].with_suffix(".key")}


def write_site(path: Path, endpoint: str, pki: dict[str, Path]) -> Path:
    client = pki["client"]
    path.write_text(
        f"""site: {{name: test}}
stations:
  - id: lauragais
    name: Barrage de la Ganguise
    endpoint: {endpoint}
    reconnect_max_delay_s: 1
    publishing_interval_ms: 200
    user: operator
    password: !secret station_password
    security: {{mode: SignAndEncrypt, certificate: {client}, private_key: {client.with_suffix(".key")}}}
tags:
  - {{id: lauragais.level, station: lauragais, node: "ns=2;s=Level", label: {{fr: Niveau}}}}
alarms:
  - {{id: link, kind: communication, tags: "*", priority: high}}
""",
        encoding="utf-8",
    )
    return path


def trust_cli(config: Path, data_dir: Path, fingerprint: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", "trust", "lauragais", "--config", str(config), "--data-dir",
         str(data_dir), "--fingerprint", fingerprint],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ), timeout=300, check=False,
    )  # fmt: skip


async def test_unknown_then_impostor_certificates_are_refused_before_the_password_is_sent(
    tmp_path: Path, runtimes: list[Runtime], stations: list[DamStation], pki: dict[str, Path],
    station_password: SecretRef,
) -> None:  # fmt: skip
    port = free_port()
    users = {"operator": PASSWORD}
    genuine = await dam(stations, port, **served_by(pki, "station"),
                        users=users)  # fmt: skip
    config_file = write_site(tmp_path / "site.yaml", genuine.endpoint, pki)
    from core.config import load_config

    runtime = Runtime(load_config(config_file), config_path=config_file, data_dir=tmp_path / "data")
    runtimes.append(runtime)
    await runtime.start()
    link, access = runtime.links[0], runtime.alarms.alarms["link:lauragais:access"]
    real = CertificateInfo.parse(load_der(pki["station"]))

    # first contact: an unknown certificate is refused by default, and says how to trust it
    await eventually(lambda: link.fault == "certificate", what="the unknown certificate refused")
    assert real.fingerprint in link.detail and "ecreteur trust lauragais" in link.detail
    assert genuine.logins == [], "credentials went to a station not trusted yet"
    assert list((tmp_path / "data" / "pki" / "rejected").iterdir())
    await eventually(lambda: access.state.status is AlarmStatus.UNACK, what="the access alarm")
    assert real.fingerprint in access.message("fr") and "certificat" in access.message("fr")

    # the administrator compares the fingerprint and trusts it: the link connects by itself
    done = await asyncio.to_thread(trust_cli, config_file, tmp_path / "data", real.fingerprint)
    assert done.returncode == 0, done.stderr
    assert real.fingerprint in done.stdout
    await eventually(lambda: good(runtime, "lauragais.level"), timeout=60, what="trusted and connected")
    assert genuine.logins[-1] == ("operator", True)
    await eventually(lambda: access.state.status is AlarmStatus.RTN_UNACK, what="the access alarm cleared")

    # an impostor takes the station's address with another certificate
    await genuine.stop()
    stations.remove(genuine)
    impostor = await dam(stations, port, **served_by(pki, "impostor"), users=users)  # fmt: skip
    fake = CertificateInfo.parse(load_der(pki["impostor"]))
    await eventually(lambda: link.fault == "certificate", timeout=60, what="the impostor refused")
    assert fake.fingerprint in link.detail and "unknown certificate" in link.detail
    assert impostor.logins == [], "the password was sent to an impostor"
    assert runtime.latest["lauragais.level"].quality is Quality.BAD


async def test_a_certificate_other_than_the_pinned_one_is_named_as_such(
    tmp_path: Path, runtimes: list[Runtime], stations: list[DamStation], pki: dict[str, Path],
    station_password: SecretRef,
) -> None:  # fmt: skip
    impostor = await dam(stations, **served_by(pki, "impostor"),
                         users={"operator": PASSWORD})  # fmt: skip
    pinned = secure(pki, server_certificate=str(pki["station"]))
    config = sim_site(impostor.endpoint, tags=SIM_TAGS[:1], security=pinned, user="operator",
                      password=SecretRef("station_password"))  # fmt: skip
    runtime = await start_runtime(runtimes, config, tmp_path)
    link = runtime.links[0]
    await eventually(lambda: link.fault == "certificate", what="the mismatch refused")
    assert "does not match the pinned certificate" in link.detail
    assert CertificateInfo.parse(load_der(pki["impostor"])).fingerprint in link.detail
    assert impostor.logins == []


# -- security policies and passwords ----------------------------------------------------------


async def test_the_configured_policy_is_used_when_the_station_offers_it(
    tmp_path: Path, runtimes: list[Runtime], stations: list[DamStation], pki: dict[str, Path]
) -> None:
    station = await dam(stations, **served_by(pki, "station"),
                        policies=["Aes256_Sha256_RsaPss"])  # fmt: skip
    security = secure(pki, policy="Aes256_Sha256_RsaPss", server_certificate=str(pki["station"]))
    runtime = await start_runtime(runtimes, sim_site(station.endpoint, security=security), tmp_path)
    await eventually(lambda: good(runtime, "lauragais.level"), what="samples over Aes256_Sha256_RsaPss")
    assert runtime.links[0].fault is None


@pytest.mark.nodeopcua
async def test_a_policy_the_station_does_not_offer_is_refused_with_what_it_offers(
    tmp_path: Path, runtimes: list[Runtime], process_peers: list[Process], pki: dict[str, Path]
) -> None:
    port = free_port()
    peer = node_station_process(port, tmp_path / "pki-node")
    process_peers.append(peer)
    await peer.start()
    config = site(
        [{"id": "nodestation", "endpoint": f"opc.tcp://127.0.0.1:{port}/station",
          "security": secure(pki, policy="Aes256_Sha256_RsaPss")}],
        [{"id": "nodestation.level", "station": "nodestation", "node": "ns=1;s=Level"}],
        alarms=COMMUNICATION,
    )  # fmt: skip
    runtime = await start_runtime(runtimes, config, tmp_path)
    link = runtime.links[0]
    await eventually(lambda: link.fault == "policy", what="the policy refused")
    assert "does not offer Aes256_Sha256_RsaPss with SignAndEncrypt" in link.detail
    assert "Basic256Sha256/SignAndEncrypt" in link.detail
    assert link.retry_in >= 50


async def test_a_wrong_password_backs_off_to_minutes_and_raises_its_own_alarm(
    tmp_path: Path, runtimes: list[Runtime], stations: list[DamStation], pki: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "station_password").write_text("not-the-password", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    station = await dam(stations, **served_by(pki, "station"),
                        users={"operator": PASSWORD})  # fmt: skip
    pinned = secure(pki, server_certificate=str(pki["station"]))
    config = sim_site(station.endpoint, tags=SIM_TAGS[:1], security=pinned, user="operator",
                      password=SecretRef("station_password"))  # fmt: skip
    runtime = await start_runtime(runtimes, config, tmp_path)
    link, access = runtime.links[0], runtime.alarms.alarms["link:lauragais:access"]
    await eventually(lambda: link.fault == "authentication", what="the refusal")
    assert station.logins == [("operator", False)]
    assert link.retry_in >= 50, "a wrong password must not be retried every few seconds"
    await eventually(lambda: access.state.status is AlarmStatus.UNACK, what="the access alarm")
    assert "mot de passe" in access.message("fr")


async def test_a_missing_secret_is_one_clear_line_not_a_traceback_per_retry(
    tmp_path: Path, runtimes: list[Runtime], stations: list[DamStation], pki: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "empty"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    station = await dam(stations)
    config = sim_site(station.endpoint, tags=SIM_TAGS[:1], user="operator",
                      password=SecretRef("nowhere_to_be_found"))  # fmt: skip
    runtime = await start_runtime(runtimes, config, tmp_path)
    link = runtime.links[0]
    await eventually(lambda: link.fault == "secret", what="the missing secret")
    assert "ecreteur secrets set nowhere_to_be_found" in link.detail
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert link.retry_in >= 50


def test_cert_create_writes_the_client_certificate_with_its_uri_and_a_private_key(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(
        """site: {name: test}
stations:
  - id: lauragais
    name: Ganguise
    endpoint: opc.tcp://127.0.0.1:4840/
    security: {mode: SignAndEncrypt, certificate: pki/client.der, private_key: pki/client.key}
tags:
  - {id: lauragais.level, station: lauragais, node: "ns=2;s=Level", label: {fr: Niveau}}
""",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "core.cli", "cert", "create", "--config", str(config), "--uri",
               "urn:salle-de-controle:ecreteur", "--host", "salle-de-controle"]  # fmt: skip
    made = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    cert, key = tmp_path / "pki" / "client.der", tmp_path / "pki" / "client.key"
    assert key.stat().st_mode & 0o777 == 0o600, "the private key is readable by others"
    assert CertificateInfo.parse(load_der(cert)).fingerprint in made.stdout
    assert application_uri(cert) == "urn:salle-de-controle:ecreteur"
    again = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert "exists: kept" in again.stdout and cert.read_bytes() == load_der(cert)
