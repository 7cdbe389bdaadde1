"""The demo's 100-year flood, played in virtual time through the demo site's alarm rules
and its dams' crest forecasts (level, inflow, rain and gate, as the stations send them)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from core.alarms.engine import AlarmEngine
from core.bus import ALARMS, Bus
from core.clock import LoopClock
from core.config import load_config
from core.model import AlarmStatus, Sample
from core.sim.flood import FloodModel
from core.sim.scenario import load_dams, load_scenario
from core.storage.sqlite_journal import SQLiteAlarmJournal
from tests.conftest import REPO

pytestmark = pytest.mark.looptime


async def test_flood_alarms_rise_in_order_and_clear_after_the_flood(tmp_path: Path) -> None:
    config = load_config(REPO / "resources" / "sites" / "demo.yaml")
    bus, events = Bus(), []
    bus.subscribe(ALARMS, events.append)
    journal = SQLiteAlarmJournal(tmp_path / "alarms.db")
    await journal.start()
    engine = AlarmEngine(config, bus, journal, LoopClock())
    await engine.start()
    dam = load_dams().dams[0]
    scenario = load_scenario("flood-100y")
    model = FloodModel(dam.parameters(), scenario.initial_level_m)
    for minute in range(24 * 60):  # one sample a minute, one virtual minute apart
        model.advance(60, scenario.rain_at(minute / 60) * dam.rain_factor)
        now, state = engine.clock.now(), model.state
        engine.on_samples(
            [
                Sample("lauragais.inflow", now, state.inflow),
                Sample("lauragais.rain", now, state.rain_mm_h),
                Sample("lauragais.gate", now, 100.0),
                Sample("lauragais.level", now, model.level),
            ]
        )
        await asyncio.sleep(60)

    level_events = [e for e in events if e.tag == "lauragais.level"]
    raised = [e.alarm for e in level_events if e.action == "raised"]
    assert raised == [
        "level_rise:lauragais.level",
        "forecast_lauragais:lauragais.level",
        "level_lauragais:lauragais.level:H",
        "level_lauragais:lauragais.level:HH",
    ]
    returned = {e.alarm for e in level_events if e.action == "returned"}
    assert returned == set(raised)
    assert all(not engine.alarms[a].state.active for a in raised)
    assert {engine.alarms[a].state.status for a in raised} == {AlarmStatus.RTN_UNACK}
    forecast = next(e for e in level_events if e.alarm.startswith("forecast") and e.action == "raised")
    # HH is warned of two hours ahead from the crest forecast, in the site's words and time
    assert re.fullmatch(
        r"Barrage de la Ganguise — Niveau de la retenue : 13,50 m prévu à \d\d:\d\d "
        r"\(dans 2 h 00 min\) si la pluie continue au rythme actuel",
        forecast.message_fr,
    )
    await engine.stop()
    await journal.stop()
    assert sorted(level_events, key=lambda e: e.ts) == level_events  # published in time order
