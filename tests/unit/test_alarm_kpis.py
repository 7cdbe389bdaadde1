"""KPIs of a recorded hour, checked against a count made by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.alarms.journal import StoredAlarm
from core.alarms.kpi import FloodPeriod, compute_kpis
from core.model import AlarmAction, AlarmEvent, AlarmStatus, Priority

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def raised(minute: float, alarm: str, priority: Priority = Priority.HIGH) -> AlarmEvent:
    return AlarmEvent(
        alarm, "t", T0 + timedelta(minutes=minute), AlarmAction.RAISED, AlarmStatus.UNACK, True, priority
    )


# The hour, by hand:
#  02:00-02:10  2 alarms (a, b)
#  02:10-02:20 12 alarms: a flood (c raised 3 times within 40 s: chattering; d..k once, b twice)
#  02:20-02:30 11 alarms: the flood goes on (l..v)
#  02:30-02:40  0
#  02:40-02:50  1 (a again)
#  02:50-03:00  0                                               total 26 annunciations
RECORD = [
    raised(1, "a", Priority.CRITICAL), raised(5, "b"),
    raised(10.0, "c"), raised(10.3, "c"), raised(10.6, "c"),
    *(raised(11 + i, name) for i, name in enumerate("defghijk")),
    raised(19, "b"),
    *(raised(20 + i * 0.5, name, Priority.LOW) for i, name in enumerate("lmnopqrstuv")),
    raised(45, "a", Priority.CRITICAL),
]  # fmt: skip
NOISE = [
    AlarmEvent(
        "a", "t", T0 + timedelta(minutes=2), AlarmAction.ACKNOWLEDGED, AlarmStatus.ACKED, True, Priority.HIGH
    )
]
STATES = [
    StoredAlarm("old", AlarmStatus.ACKED, True, since=T0 - timedelta(hours=30)),
    StoredAlarm("young", AlarmStatus.UNACK, True, since=T0 - timedelta(hours=2)),
    StoredAlarm("shelved_old", AlarmStatus.SHELVED, True, since=T0 - timedelta(hours=30)),
]


def test_kpis_match_the_hand_count() -> None:
    kpis = compute_kpis(RECORD + NOISE, STATES, T0, T0 + timedelta(hours=1))
    assert kpis.raised == 26
    assert kpis.per_operator_per_10min == 26 / 6
    assert kpis.max_per_10min == 12  # 02:10-02:20: c×3, d..k (8), b
    assert kpis.floods == [FloodPeriod(T0 + timedelta(minutes=10), T0 + timedelta(minutes=30), 12 + 11)]
    assert kpis.flood_share == 2 / 6
    assert kpis.chattering == ["c"]
    assert kpis.stale == ["old"]  # shelved alarms are not counted as standing
    assert kpis.top10[:3] == [("c", 3), ("a", 2), ("b", 2)]
    assert kpis.priorities == {"critical": 2 / 26, "high": 13 / 26, "low": 11 / 26}


def test_two_operators_share_the_load() -> None:
    kpis = compute_kpis(RECORD, [], T0, T0 + timedelta(hours=1), operators=2)
    assert kpis.per_operator_per_10min == 26 / 6 / 2
