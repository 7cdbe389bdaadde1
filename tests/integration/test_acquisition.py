"""Acquisition from our simulated station: every change stored, faults contained and located."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core import words
from core.bus import STATION_STATUS
from core.config.schema import SiteConfig
from core.model import ConnectionState, Quality, StationStatus, utcnow
from core.runtime import Runtime
from core.sim.station import DamStation
from tests.conftest import eventually, free_port, site
from tests.integration.conftest import start_runtime, station_log, stop_runtimes, stored_series


def one_station(endpoint: str, tags: dict[str, str], **station: object) -> SiteConfig:
    return site(
        [{"id": "lauragais", "endpoint": endpoint, "publishing_interval_ms": 200, **station}],
        [
            {"id": f"lauragais.{key}", "station": "lauragais", "node": node, "sampling_ms": 0}
            for key, node in tags.items()
        ],
    )


async def station_history(station: DamStation, name: str, since: datetime) -> list[tuple[datetime, float]]:
    return await station_log(station.endpoint, station.namespace, name, since)


async def test_every_change_of_a_fast_station_reaches_the_historian(
    station: DamStation, runtimes: list[Runtime], tmp_path: Path
) -> None:
    """At 10 changes/s and 200 ms publishing, nothing is coalesced: the historian equals the station log."""
    t0 = utcnow()
    runtime = await start_runtime(
        runtimes, one_station(station.endpoint, {"level": "ns=2;s=Level"}), tmp_path
    )
    await eventually(
        lambda: runtime.stations["lauragais"].state is ConnectionState.CONNECTED, what="connection"
    )
    await eventually(lambda: runtime.links[0].received >= 40, what="40 samples")
    await stop_runtimes(runtimes)
    stored = await stored_series(tmp_path, "lauragais.level", t0)
    logged = [(ts, v) for ts, v in await station_history(station, "Level", t0) if ts <= stored[-1][0]]
    assert stored[0][0] >= t0 - timedelta(seconds=1)
    # from the first value both hold: what the station logged while the client was still
    # connecting (a loaded PC) is before the subscription's first value, not a coalesced change
    since = max(stored[0][0], logged[0][0])
    assert [v for ts, v in stored if ts >= since] == [v for ts, v in logged if ts >= since]


async def test_samples_carry_source_time_quality_and_engineering_value(
    station: DamStation, runtimes: list[Runtime], tmp_path: Path
) -> None:
    config = one_station(station.endpoint, {"level": "ns=2;s=Level", "door": "ns=2;s=DoorOpen"})
    runtime = await start_runtime(runtimes, config, tmp_path)
    await eventually(lambda: {"lauragais.level", "lauragais.door"} <= set(runtime.latest), what="both tags")
    level, door = runtime.latest["lauragais.level"], runtime.latest["lauragais.door"]
    assert level.quality is Quality.GOOD and 2.5 < level.value < 20
    assert level.ts.tzinfo is not None and abs((utcnow() - level.ts).total_seconds()) < 60
    assert level.server_ts is not None
    assert door.value == 0.0  # the door contact is a boolean: closed


async def test_unknown_node_and_wrong_type_are_contained(
    station: DamStation, runtimes: list[Runtime], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing node and a string where a number is expected turn bad; the other tags flow."""
    config = one_station(
        station.endpoint, {"level": "ns=2;s=Level", "ghost": "ns=2;s=DoesNotExist", "mode": "ns=2;s=Mode"}
    )
    with caplog.at_level(logging.ERROR):
        runtime = await start_runtime(runtimes, config, tmp_path)
        await eventually(lambda: runtime.links[0].received > 20, what="live samples")
    ghost, mode = runtime.latest["lauragais.ghost"], runtime.latest["lauragais.mode"]
    assert ghost.quality is Quality.BAD and math.isnan(ghost.value)
    assert mode.quality is Quality.BAD
    assert runtime.latest["lauragais.level"].quality is Quality.GOOD
    assert "tag lauragais.ghost: node ns=2;s=DoesNotExist does not exist on the station" in caplog.text
    assert "tag lauragais.mode: the station sent str 'AUTO' where a number is expected" in caplog.text


async def test_unreachable_station_is_reported_and_retried_without_stopping_the_site(
    station: DamStation, runtimes: list[Runtime], tmp_path: Path
) -> None:
    dead = f"opc.tcp://127.0.0.1:{free_port()}/nobody"
    config = site(
        [
            {"id": "lauragais", "endpoint": station.endpoint, "publishing_interval_ms": 200},
            {"id": "ghost", "endpoint": dead, "reconnect_max_delay_s": 0.5},
        ],
        [
            {"id": "lauragais.level", "station": "lauragais", "node": "ns=2;s=Level"},
            {"id": "ghost.level", "station": "ghost", "node": "ns=2;s=Level"},
        ],
    )
    statuses: list[StationStatus] = []
    runtime = Runtime(config, data_dir=tmp_path)
    runtime.bus.subscribe(STATION_STATUS, statuses.append)
    runtimes.append(runtime)
    await runtime.start()
    await eventually(
        lambda: sum(s.station == "ghost" and s.state is ConnectionState.CONNECTING for s in statuses) >= 3,
        what="three connection attempts",
    )
    ghost = runtime.stations["ghost"]
    assert ghost.state in (ConnectionState.DISCONNECTED, ConnectionState.CONNECTING)
    failures = [
        s.detail for s in statuses if s.station == "ghost" and s.state is ConnectionState.DISCONNECTED
    ]
    assert "Connect call failed" in failures[0] or "refused" in failures[0].lower()
    # the operator reads why in words, the log keeps the technical detail
    down = next(s for s in statuses if s.station == "ghost" and s.state is ConnectionState.DISCONNECTED)
    assert words.outage(down.reason, "fr") == "le poste refuse la connexion (service arrêté ou port fermé)"
    assert words.outage(runtime.stations["lauragais"].reason, "en") == "linked, values arriving"
    assert runtime.stations["lauragais"].state is ConnectionState.CONNECTED
    assert "ghost.level" not in runtime.latest  # never seen, so never shown as a value


async def test_a_gap_while_supervision_was_down_is_backfilled(
    station: DamStation, runtimes: list[Runtime], tmp_path: Path
) -> None:
    """Stop the pipeline, let the station run on, restart: the historian catches up from HistoryRead.

    The station's watchdog counts every update, so a hole shows as a missing integer.
    """
    t0 = utcnow()
    config = one_station(station.endpoint, {"watchdog": "ns=2;s=Watchdog"})
    runtime = await start_runtime(runtimes, config, tmp_path)
    await eventually(lambda: runtime.links[0].received > 10, what="first samples")
    await stop_runtimes(runtimes)
    down = utcnow()
    await eventually(lambda: (utcnow() - down).total_seconds() > 2, what="two seconds of gap")
    runtime = await start_runtime(runtimes, config, tmp_path)
    await eventually(lambda: runtime.links[0].backfilled > 10, what="backfill")
    await eventually(lambda: runtime.links[0].received > 10, what="live again")
    await stop_runtimes(runtimes)
    stored = await stored_series(tmp_path, "lauragais.watchdog", t0)
    counts = [int(v) for _, v in stored]
    assert len({ts for ts, _ in stored}) == len(stored)  # no duplicate
    assert counts == list(range(counts[0], counts[0] + len(counts)))  # no hole
    # what the station logged from the first value supervision saw (a first connection does not
    # import the station's whole log) to the last one stored: the gap in between was backfilled
    first, last = stored[0][0], stored[-1][0]
    logged = [(ts, v) for ts, v in await station_history(station, "Watchdog", t0) if first <= ts <= last]
    assert set(logged) <= set(stored)
