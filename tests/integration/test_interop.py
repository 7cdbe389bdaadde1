"""Interoperability with an independent OPC-UA stack (node-opcua), and SignAndEncrypt on both peers."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.acquisition.opcua import CLIENT_URI, create_certificate, server_certificate
from core.acquisition.trust import TrustStore
from core.config.schema import SiteConfig
from core.model import ConnectionState, Quality
from core.runtime import Runtime
from core.sim.scenario import load_dams, load_scenario
from core.sim.station import DamStation
from tests.conftest import eventually, free_port, site
from tests.integration.conftest import Process, node_station_process, start_runtime, stop_runtimes

pytestmark = pytest.mark.nodeopcua


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PKI folder for the module, so node-opcua creates its certificate only once."""
    return tmp_path_factory.mktemp("pki")


@pytest.fixture
async def client_certificate(tmp_path: Path) -> tuple[Path, Path]:
    key, cert = tmp_path / "client-key.pem", tmp_path / "client-cert.der"
    create_certificate(key, cert, CLIENT_URI, "127.0.0.1")
    return cert, key


def node_site(port: int, **station: object) -> SiteConfig:
    return site(
        [
            {
                "id": "nodestation",
                "endpoint": f"opc.tcp://127.0.0.1:{port}/station",
                "publishing_interval_ms": 200,
                **station,
            }
        ],
        [
            {
                "id": "nodestation.level",
                "station": "nodestation",
                "browse_path": "0:Objects/1:Dam/1:Level",
                "sampling_ms": 0,
            },
            {
                "id": "nodestation.door",
                "station": "nodestation",
                "node": "ns=1;s=DoorOpen",
                "kind": "discrete",
            },
        ],
    )


async def test_node_opcua_station_by_browse_path_and_node_id(
    pki: Path, process_peers: list[Process], runtimes: list[Runtime], tmp_path: Path
) -> None:
    port = free_port()
    peer = node_station_process(port, pki)
    process_peers.append(peer)
    await peer.start()
    runtime = await start_runtime(runtimes, node_site(port), tmp_path)
    await eventually(lambda: runtime.links[0].received > 20, what="samples from node-opcua")
    level, door = runtime.latest["nodestation.level"], runtime.latest["nodestation.door"]
    assert level.quality is Quality.GOOD and level.value > 3.0
    assert door.value == 1.0


async def test_node_opcua_station_killed_and_restarted(
    pki: Path, process_peers: list[Process], runtimes: list[Runtime], tmp_path: Path
) -> None:
    port = free_port()
    first = node_station_process(port, pki)
    process_peers.append(first)
    await first.start()
    runtime = await start_runtime(runtimes, node_site(port, reconnect_max_delay_s=1), tmp_path)
    link = runtime.links[0]
    await eventually(lambda: link.received > 10, what="first samples")
    first.kill()
    await eventually(lambda: link.state is not ConnectionState.CONNECTED, what="loss detected")
    assert runtime.latest["nodestation.level"].quality is Quality.BAD
    second = node_station_process(port, pki)
    process_peers.append(second)
    await second.start()
    received = link.received
    await eventually(lambda: link.received > received + 10, timeout=60, what="samples after restart")
    assert runtime.latest["nodestation.level"].quality is Quality.GOOD
    assert link.connections == 2


async def test_sign_and_encrypt_with_node_opcua(
    pki: Path, process_peers: list[Process], runtimes: list[Runtime], tmp_path: Path,
    client_certificate: tuple[Path, Path],
) -> None:  # fmt: skip
    cert, key = client_certificate
    port = free_port()
    peer = node_station_process(port, pki)
    process_peers.append(peer)
    await peer.start()
    security = {
        "mode": "SignAndEncrypt",
        "policy": "Basic256Sha256",
        "certificate": str(cert),
        "private_key": str(key),
    }
    config = node_site(port, security=security)
    # as `ecreteur trust nodestation` does once the administrator compared the fingerprint
    presented = await server_certificate(config.stations[0])
    TrustStore(tmp_path / "pki").trust("nodestation", presented.der)
    runtime = await start_runtime(runtimes, config, tmp_path)
    await eventually(lambda: runtime.links[0].received > 10, what="encrypted samples")
    assert runtime.latest["nodestation.level"].quality is Quality.GOOD


async def test_sign_and_encrypt_with_our_simulator(
    runtimes: list[Runtime], tmp_path: Path, client_certificate: tuple[Path, Path]
) -> None:
    cert, key = client_certificate
    server_key, server_cert = tmp_path / "server-key.pem", tmp_path / "server-cert.der"
    create_certificate(server_key, server_cert, "urn:freeopcua:python:server", "127.0.0.1")
    dam = load_dams().dams[0]
    station = DamStation(
        "lauragais", dam.parameters(), load_scenario("flood-100y"), port=free_port(), tick_s=0.1,
        certificate=server_cert, private_key=server_key,
    )  # fmt: skip
    await station.start()
    try:
        security = {"mode": "SignAndEncrypt", "certificate": str(cert), "private_key": str(key),
                    "server_certificate": str(server_cert)}  # fmt: skip
        config = site(
            [
                {
                    "id": "lauragais",
                    "endpoint": station.endpoint,
                    "publishing_interval_ms": 200,
                    "security": security,
                }
            ],
            [{"id": "lauragais.level", "station": "lauragais", "node": "ns=2;s=Level"}],
        )
        runtime = await start_runtime(runtimes, config, tmp_path)
        await eventually(lambda: runtime.links[0].received > 5, what="encrypted samples")
        assert runtime.latest["lauragais.level"].quality is Quality.GOOD
    finally:
        await stop_runtimes(runtimes)
        await station.stop()
