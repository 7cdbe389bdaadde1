"""A time-lapse's clock: agreed from its text alone, and delays in simulated seconds."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from core.cli.main import build_parser
from core.clock import ScenarioClock, started_now
from core.sim.station import station_tick


def test_two_processes_agree_on_the_time_from_the_text_they_share() -> None:
    ours = started_now(60)
    theirs = ScenarioClock.parse(str(ours))  # what the demo passes to the simulator
    assert theirs.epoch == ours.epoch and theirs.speed == 60
    assert abs((theirs.now() - ours.now()).total_seconds()) < 1.0


def test_simulated_time_runs_at_its_speed() -> None:
    clock = ScenarioClock(datetime.fromtimestamp(time.time() - 10, UTC), 60)
    ahead = (clock.now() - datetime.now(UTC)).total_seconds()
    assert 590 - 60 < ahead < 590 + 60  # ten real seconds after the epoch: ten simulated minutes


async def test_a_simulated_minute_passes_in_a_real_second_at_60x() -> None:
    clock, fired = started_now(60), asyncio.Event()
    loop = asyncio.get_running_loop()
    began = loop.time()
    clock.call_later(60.0, fired.set)
    await asyncio.wait_for(fired.wait(), 30)
    assert loop.time() - began < 30  # nowhere near a real minute


@pytest.mark.parametrize(
    "text", ["2026-12-03T14:00:00Z", "2026-12-03T14:00:00@0", "2026-12-03T14:00:00@60", "x@60"]
)
def test_a_wrong_simulation_is_refused_with_its_text(text: str) -> None:
    with pytest.raises((ValueError, SystemExit)):
        ScenarioClock.parse(text)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["monitor", "--config", "site.yaml", "--simulation", text])


def test_the_supervision_commands_take_the_stations_clock() -> None:
    for command in (
        ["monitor", "--config", "s.yaml"],
        ["server", "--config", "s.yaml"],
        ["hmi", "--config", "s.yaml"],
    ):
        args = build_parser().parse_args([*command, "--simulation", "2026-12-03T14:00:00Z@600"])
        assert args.simulation.speed == 600 and args.simulation.epoch == datetime(2026, 12, 3, 14, tzinfo=UTC)


def test_a_faster_time_lapse_updates_its_stations_more_often() -> None:
    assert station_tick(60, None) == 1.0 and station_tick(600, None) == pytest.approx(0.1)
    assert station_tick(100_000, None) == 0.05 and station_tick(600, 0.5) == 0.5
