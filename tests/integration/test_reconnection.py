"""A station killed and restarted mid-run: reconnection by itself, no duplicate, no hole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.acquisition.link import BAD_NO_COMMUNICATION
from core.model import ConnectionState, Quality, utcnow
from core.runtime import Runtime
from tests.conftest import eventually, free_port, site
from tests.integration.conftest import Process, simulator_process, station_log
from tests.integration.test_acquisition import stored_series


@pytest.fixture
async def runtime_for() -> AsyncIterator[list[Runtime]]:
    runtimes: list[Runtime] = []
    yield runtimes
    for runtime in runtimes:
        await runtime.stop()


async def logged_history(endpoint: str, since: object) -> list[tuple[object, float]]:
    from asyncua import Client

    async with Client(endpoint) as client:
        ns = await client.get_namespace_index("urn:ecreteur:sim:lauragais")
        values = await client.get_node(f"ns={ns};s=Level").read_raw_history(since, utcnow())
    return [(dv.SourceTimestamp, float(dv.Value.Value)) for dv in values]


@pytest.mark.slow
async def test_killed_station_reconnects_and_history_has_no_duplicate_and_no_hole(
    tmp_path: Path, process_peers: list[Process], runtime_for: list[Runtime]
) -> None:
    port = free_port()
    endpoint = f"opc.tcp://127.0.0.1:{port}/ecreteur/lauragais"
    config = site(
        [
            {
                "id": "lauragais",
                "endpoint": endpoint,
                "publishing_interval_ms": 200,
                "reconnect_max_delay_s": 1,
            }
        ],
        [{"id": "lauragais.level", "station": "lauragais", "node": "ns=2;s=Level", "sampling_ms": 0}],
    )
    t0 = utcnow()
    first = simulator_process(port, tmp_path / "logger")
    process_peers.append(first)
    await first.start()
    runtime = Runtime(config, data_dir=tmp_path)
    runtime_for.append(runtime)
    await runtime.start()
    link = runtime.links[0]
    await eventually(lambda: link.received > 20, what="live samples")

    first.kill()  # kill -9: no goodbye to the client
    await eventually(lambda: link.state is not ConnectionState.CONNECTED, what="loss detected")
    lost = runtime.latest["lauragais.level"]
    assert lost.quality is Quality.BAD and lost.status == BAD_NO_COMMUNICATION

    await asyncio.sleep(1.0)  # the station stays down for a while
    second = simulator_process(port, tmp_path / "logger")
    process_peers.append(second)
    await second.start()
    received = link.received
    await eventually(lambda: link.state is ConnectionState.CONNECTED, what="reconnection")
    await eventually(lambda: link.received > received + 20, what="live samples again")
    assert link.connections == 2
    await runtime.stop()
    runtime_for.clear()

    stored = await stored_series(tmp_path, "lauragais.level", t0)
    # from the first sample supervision saw (a first connection does not import the station's
    # whole log) to the last it stored: the outage in between must hold every logged value
    first_seen, last_seen = stored[0][0], stored[-1][0]
    logged = [(ts, v) for ts, v in await logged_history(endpoint, t0) if first_seen <= ts <= last_seen]
    stored_ts = [ts for ts, _ in stored]
    assert len(set(stored_ts)) == len(stored_ts), "duplicate samples in the historian"
    missing = set(logged) - set(stored)
    assert not missing, f"{len(missing)} logged samples missing from the historian"


async def test_a_restarted_station_answers_its_history_from_the_first_connection(tmp_path: Path) -> None:
    """A client that reconnects the instant the port opens reads the gap from the logger.

    The station used to open its port before it loaded its log: HistoryRead then answered
    nothing, the client closed the gap as empty and the last samples before the kill were lost.
    """
    from core.sim.scenario import load_dams, load_scenario
    from core.sim.station import DamStation

    dam = load_dams().dams[0]
    port = free_port()

    def station() -> DamStation:
        return DamStation(
            "lauragais", dam.parameters(), load_scenario("flood-100y"),
            port=port, speed=600, tick_s=0.05, history_db=tmp_path / "station.db",
        )  # fmt: skip

    t0 = utcnow()
    first = station()
    await first.start()
    await eventually(lambda: first.ticks > 10, what="a few logged updates")
    logged = await station_log(first.endpoint, first.namespace, "Watchdog", t0)
    await first.stop()

    second = station()
    opening = second._server.start
    answered: list[list[tuple[object, float]]] = []

    async def open_then_knock() -> None:  # a reconnecting client is there the moment the port opens
        await opening()
        answered.append(await station_log(second.endpoint, second.namespace, "Watchdog", t0))

    second._server.start = open_then_knock  # type: ignore[method-assign]
    await second.start()
    try:
        assert set(logged) <= set(answered[0]), "the restarted station did not answer its log"
    finally:
        await second.stop()
