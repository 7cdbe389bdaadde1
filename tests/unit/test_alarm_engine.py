"""The alarm engine in virtual time: delays, deadbands, shelving, staleness, trends, restarts."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.alarms.engine import AlarmEngine
from core.bus import ALARMS, STATION_STATUS, Bus
from core.clock import LoopClock
from core.model import AlarmEvent, AlarmStatus, ConnectionState, Quality, Sample, StationStatus
from core.storage.sqlite_journal import SQLiteAlarmJournal
from tests.conftest import site

pytestmark = pytest.mark.looptime


def config(*rules: dict[str, Any]) -> Any:
    return site(
        [{"id": "dam", "endpoint": "opc.tcp://127.0.0.1:4840/"}],
        [
            {"id": "dam.level", "station": "dam", "node": "ns=2;s=Level", "unit": "m",
             "label": {"fr": "Niveau", "en": "Level"}},
            {"id": "dam.door", "station": "dam", "node": "ns=2;s=Door", "kind": "discrete"},
        ],
        alarms=list(rules),
    )  # fmt: skip


HIGH = {"id": "level", "tags": "dam.level", "kind": "limits", "deadband": 0.2,
        "limits": {"H": {"value": 10.0}, "HH": {"value": 12.0}}}  # fmt: skip


class Harness:
    """An engine on a real SQLite journal, fed by hand, with its published events collected."""

    def __init__(self, engine: AlarmEngine, bus: Bus, journal: SQLiteAlarmJournal) -> None:
        self.engine, self.bus, self.journal = engine, bus, journal
        self.events: list[AlarmEvent] = []
        bus.subscribe(ALARMS, self.events.append)

    def feed(self, value: float, tag: str = "dam.level", quality: Quality = Quality.GOOD) -> None:
        self.engine.on_samples([Sample(tag, self.engine.clock.now(), value, quality)])

    def actions(self, alarm: str | None = None) -> list[str]:
        return [e.action for e in self.events if alarm is None or e.alarm == alarm]

    def status(self, alarm: str) -> AlarmStatus:
        return self.engine.alarms[alarm].state.status


@pytest.fixture
async def make(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    engines: list[Harness] = []

    async def build(*rules: dict[str, Any], path: Path | None = None) -> Harness:
        bus = Bus()
        journal = SQLiteAlarmJournal(path or tmp_path / "alarms.db")
        await journal.start()
        engine = AlarmEngine(config(*rules), bus, journal, LoopClock())
        await engine.start()
        harness = Harness(engine, bus, journal)
        engines.append(harness)
        return harness

    yield build
    for harness in engines:
        await harness.engine.stop()
        await harness.journal.stop()


@pytest.fixture
async def h(make: Callable[..., Any]) -> Harness:
    harness: Harness = await make(HIGH)
    return harness


async def test_limits_with_deadband_do_not_chatter(h: Harness) -> None:
    for value in (9.0, 10.1, 9.9, 10.1, 9.85, 10.05):  # wobbling inside the deadband
        h.feed(value)
    assert h.actions("level:dam.level:H") == ["raised"]
    h.feed(9.7)
    assert h.actions("level:dam.level:H") == ["raised", "returned"]
    assert h.status("level:dam.level:H") is AlarmStatus.RTN_UNACK
    h.feed(12.5)
    assert h.actions("level:dam.level:HH") == ["raised"]
    raised = h.events[-1]
    assert raised.priority.name == "CRITICAL"
    assert raised.message_fr == "dam — Niveau très haut : 12,50 m (seuil 12,00 m)"
    assert raised.message_en == "dam — Level very high: 12.50 m (limit 12.00 m)"


async def test_a_limit_is_crossed_above_it_not_at_it_and_hhh_is_a_third_upper_level(
    make: Callable[..., Any],
) -> None:
    crest = {**HIGH, "limits": {**HIGH["limits"], "HHH": {"value": 13.0}}}
    h = await make(crest)
    h.feed(10.0)  # at the limit: not above it
    assert h.actions("level:dam.level:H") == []
    h.feed(10.01)
    assert h.actions("level:dam.level:H") == ["raised"]
    h.feed(13.2)  # over the spillway crest
    assert h.actions("level:dam.level:HHH") == ["raised"]
    assert h.events[-1].priority.name == "CRITICAL"
    assert h.events[-1].message_fr == "dam — Niveau au niveau extrême : 13,20 m (seuil 13,00 m)"
    assert h.engine.limits("dam.level") == {"H": 10.0, "HH": 12.0, "HHH": 13.0}


async def test_on_delay_ignores_short_excursions(make: Callable[..., Any]) -> None:
    h = await make({**HIGH, "on_delay_s": 30})
    h.feed(10.5)
    await asyncio.sleep(20)
    h.feed(9.0)  # back before the 30 s elapsed
    await asyncio.sleep(60)
    assert h.events == []
    start = h.engine.clock.now()
    h.feed(10.5)
    await asyncio.sleep(29)
    assert h.events == []
    await asyncio.sleep(2)
    assert h.actions() == ["raised"]
    assert h.events[0].ts - start == timedelta(seconds=30)


async def test_off_delay_holds_the_alarm(make: Callable[..., Any]) -> None:
    h = await make({**HIGH, "off_delay_s": 120})
    h.feed(10.5)
    h.feed(9.0)
    await asyncio.sleep(100)
    h.feed(10.4)  # comes back within the off-delay: the alarm never returned
    h.feed(9.0)
    await asyncio.sleep(119)
    assert h.actions("level:dam.level:H") == ["raised"]
    await asyncio.sleep(2)
    assert h.actions("level:dam.level:H") == ["raised", "returned"]


async def test_acknowledge_records_who_and_why(h: Harness) -> None:
    h.feed(10.5)
    assert h.engine.acknowledge("level:dam.level:H", "Marie Dupont", "vanne ouverte à 50 %")
    assert not h.engine.acknowledge("level:dam.level:H", "Marie Dupont")  # nothing left to acknowledge
    assert h.status("level:dam.level:H") is AlarmStatus.ACKED
    await h.journal.flush()
    journal = await h.journal.events(
        h.events[0].ts - timedelta(seconds=1), h.engine.clock.now() + timedelta(seconds=1)
    )
    assert [(e.action, e.user, e.comment) for e in journal] == [
        ("raised", "", ""),
        ("acknowledged", "Marie Dupont", "vanne ouverte à 50 %"),
    ]


async def test_shelving_expires_and_reannunciates(h: Harness) -> None:
    h.feed(10.5)
    with pytest.raises(ValueError, match="at most 8:00:00"):
        h.engine.shelve("level:dam.level:H", "Marie", "capteur en test", timedelta(hours=9))
    with pytest.raises(ValueError, match="reason"):
        h.engine.shelve("level:dam.level:H", "Marie", " ", timedelta(hours=1))
    assert h.engine.shelve("level:dam.level:H", "Marie", "capteur en test", timedelta(hours=1))
    h.feed(11.0)  # still active while shelved: nothing annunciated
    await asyncio.sleep(3599)
    assert h.status("level:dam.level:H") is AlarmStatus.SHELVED
    await asyncio.sleep(2)
    assert h.status("level:dam.level:H") is AlarmStatus.UNACK
    assert h.actions("level:dam.level:H") == ["raised", "shelved", "unshelved", "raised"]
    assert h.events[-2].user == "system" and h.events[-2].comment == "shelving expired"


async def test_stale_value_is_detected(make: Callable[..., Any]) -> None:
    h = await make({"id": "fresh", "tags": "dam.level", "kind": "stale", "max_age_s": 60})
    h.feed(5.0)
    await asyncio.sleep(59)
    h.feed(5.1)
    await asyncio.sleep(59)
    assert h.events == []
    await asyncio.sleep(2)
    assert h.actions() == ["raised"]
    h.feed(5.2)
    assert h.actions() == ["raised", "returned"]


async def test_bad_quality_neither_clears_nor_crashes(h: Harness) -> None:
    h.feed(10.5)
    h.feed(math.nan, quality=Quality.BAD)  # link lost: keep the alarm as it was
    h.engine.on_samples([Sample("dam.level", h.engine.clock.now(), "high")])  # type: ignore[arg-type]
    assert h.actions() == ["raised"]
    assert h.engine.rejected_samples == 2


async def test_rate_of_rise_and_time_to_crest(make: Callable[..., Any]) -> None:
    h = await make(
        {"id": "rise", "tags": "dam.level", "kind": "rate", "rise_per_hour": 0.5, "window_s": 600},
        {"id": "crest", "tags": "dam.level", "kind": "forecast", "threshold": 14.0, "horizon_min": 60,
         "window_s": 600},
    )  # fmt: skip
    level = 10.0
    for _ in range(60):  # 0.6 m/h for 30 minutes, one sample every 30 s
        h.feed(level)
        level += 0.005
        await asyncio.sleep(30)
    assert h.actions("rise:dam.level") == ["raised"]
    forecast = h.engine.forecasts["crest:dam.level"]
    assert forecast.rate_per_h == pytest.approx(0.6, rel=0.01)
    assert forecast.eta_min == pytest.approx((14.0 - (level - 0.005)) / 0.6 * 60, rel=0.01)
    assert "crest:dam.level" not in {e.alarm for e in h.events}  # 6 h away: no alarm yet
    for _ in range(60):  # now 3 m/h
        h.feed(level)
        level += 0.025
        await asyncio.sleep(30)
    crest = [e for e in h.events if e.alarm == "crest:dam.level"]
    assert [e.action for e in crest] == ["raised"]
    assert "dans 1 h 00 min à la pente actuelle" in crest[0].message_fr
    raised = next(e for e in h.events if e.alarm == "rise:dam.level").message_fr
    for _ in range(60):  # then falling: the rise is over, its message still names the rise
        h.feed(level)
        level -= 0.01
        await asyncio.sleep(30)
    assert h.actions("rise:dam.level") == ["raised", "returned"]
    over = next(v for v in h.engine.views() if v.id == "rise:dam.level")
    assert over.message_fr == raised and "-" not in over.message_fr.split(":")[-1]


async def test_communication_loss_alarm(make: Callable[..., Any]) -> None:
    h = await make({"id": "link", "tags": "*", "kind": "communication", "priority": "high"})
    now = h.engine.clock.now()
    h.bus.publish(STATION_STATUS, StationStatus("dam", ConnectionState.DISCONNECTED, now, "refused"))
    h.bus.publish(STATION_STATUS, StationStatus("dam", ConnectionState.CONNECTING, now))
    h.bus.publish(STATION_STATUS, StationStatus("dam", ConnectionState.CONNECTED, now))
    assert h.actions("link:dam") == ["raised", "returned"]
    assert h.events[0].message_en == "dam: communication lost"


async def test_maintenance_mode_suppresses_by_design(make: Callable[..., Any]) -> None:
    h = await make(
        {**HIGH, "suppressed_in": ["maintenance"]}, {"id": "door", "tags": "dam.door", "kind": "discrete"}
    )
    assert len(h.engine.set_mode("maintenance", "dam", True, "Paul", "vidange de la retenue")) == 2
    h.feed(11.0)
    h.feed(1.0, tag="dam.door")
    assert h.status("level:dam.level:H") is AlarmStatus.SUPPRESSED
    assert h.status("door:dam.door") is AlarmStatus.UNACK  # not listed as suppressible
    assert len(h.engine.set_mode("maintenance", "dam", False, "Paul", "fin de vidange")) == 2
    assert h.status("level:dam.level:H") is AlarmStatus.UNACK
    suppressed = [e for e in h.events if e.action == "suppressed"]
    assert suppressed[0].user == "Paul" and suppressed[0].comment == "maintenance: vidange de la retenue"


async def test_restart_restores_alarms_without_raising_them_twice(
    make: Callable[..., Any], tmp_path: Path
) -> None:
    first = await make(HIGH, path=tmp_path / "j.db")
    first.feed(12.5)  # H and HH raised
    first.engine.acknowledge("level:dam.level:HH", "Marie", "")
    first.engine.shelve("level:dam.level:H", "Marie", "doublon du HH", timedelta(hours=2))
    await first.engine.stop()
    await first.journal.stop()

    second = await make(HIGH, path=tmp_path / "j.db")
    assert second.status("level:dam.level:HH") is AlarmStatus.ACKED
    assert second.engine.alarms["level:dam.level:HH"].ack_user == "Marie"
    assert second.status("level:dam.level:H") is AlarmStatus.SHELVED
    second.feed(12.4)  # still high: nothing new to say
    assert second.events == []
    await asyncio.sleep(2 * 3600 + 1)  # the shelving restored from the journal still expires
    assert second.actions("level:dam.level:H") == ["unshelved", "raised"]


async def test_a_limit_alarm_names_the_value_that_raised_it_not_the_value_now(h: Harness) -> None:
    h.feed(12.5)  # HH raised at 12.50
    h.feed(11.0)  # back under HH: the alarm returns, and its words must not contradict the limit
    alarm = h.engine.alarms["level:dam.level:HH"]
    assert alarm.value == 11.0 and alarm.raised_value == 12.5
    assert alarm.message("fr") == "dam — Niveau très haut : 12,50 m (seuil 12,00 m)"
    assert alarm.view().value == 11.0  # the value now is there too, for the screens to show beside it


async def test_a_restart_keeps_the_value_that_raised_each_alarm(
    make: Callable[..., Any], tmp_path: Path
) -> None:
    """After a restart every message was rewritten with the value of the day ("très haut : 11.78 m")."""
    first = await make(HIGH, path=tmp_path / "j.db")
    first.feed(12.5)  # H and HH raised at 12.50
    first.feed(11.0)  # HH back to normal, unacknowledged; H still active
    await first.engine.stop()
    await first.journal.stop()

    second = await make(HIGH, path=tmp_path / "j.db")
    second.feed(10.6)  # the value now, after the restart
    for alarm_id in ("level:dam.level:HH", "level:dam.level:H"):
        alarm = second.engine.alarms[alarm_id]
        assert alarm.raised_value == 12.5 and alarm.view().raised_value == 12.5
        assert "12,50 m" in alarm.message("fr") and "12.50 m" in alarm.message("en")
    assert second.engine.alarms["level:dam.level:H"].value == 10.6


async def test_a_forecast_with_no_time_left_says_reached_or_eased_never_a_dash(
    make: Callable[..., Any],
) -> None:
    h = await make(
        {"id": "crest", "tags": "dam.level", "kind": "forecast", "threshold": 14.0, "horizon_min": 60,
         "window_s": 600, "off_delay_s": 3600},
    )  # fmt: skip
    level = 12.0
    for _ in range(50):  # 6 m/h: the crest is minutes away, then passed
        h.feed(level)
        level += 0.05
        await asyncio.sleep(30)
    alarm = h.engine.alarms["crest:dam.level"]
    assert alarm.state.active and alarm.value is not None and alarm.value > 14.0
    for _ in range(40):  # steady above the crest: no time left to give
        h.feed(14.5)
        await asyncio.sleep(30)
    assert h.engine.forecast("dam.level")[1] == 0  # no minutes left: it is there
    assert alarm.message("fr") == "dam — Niveau : 14,00 m atteint"
    assert alarm.message("en") == "dam — Level: 14.00 m reached"
    for _ in range(40):  # falling below it again, still within the off-delay
        h.feed(13.0)
        await asyncio.sleep(30)
    assert "—" not in alarm.message("fr").split(" — ", 1)[1]
    assert alarm.message("fr") == "dam — Niveau : 14,00 m n'est plus prévu"
