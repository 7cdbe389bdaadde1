"""The alarm journal contract, for every backend: ordered, complete, restorable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.alarms.journal import AlarmJournal, StoredAlarm
from core.model import AlarmAction, AlarmEvent, AlarmStatus, Priority
from core.storage.cassandra_journal import CassandraAlarmJournal
from core.storage.sqlite_journal import SQLiteAlarmJournal
from tests.integration.conftest import cassandra_settings

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def make_cassandra(path: Path, request: pytest.FixtureRequest) -> AlarmJournal:
    node = request.getfixturevalue("cassandra_node")
    return CassandraAlarmJournal(cassandra_settings(node), path / "journal.db")


BACKENDS = {
    "sqlite": lambda path, _request: SQLiteAlarmJournal(path / "journal.db"),
    "cassandra": make_cassandra,
}


@pytest.fixture(params=sorted(BACKENDS))
async def journal(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AlarmJournal]:
    store: AlarmJournal = BACKENDS[request.param](tmp_path, request)
    await store.start()
    yield store
    await store.stop()


def event(i: int, alarm: str = "a", action: AlarmAction = AlarmAction.RAISED) -> AlarmEvent:
    user = "Marie" if i % 2 else ""
    ts = T0 + timedelta(seconds=i)
    return AlarmEvent(
        alarm,
        "dam.level",
        ts,
        action,
        AlarmStatus.UNACK,
        True,
        Priority.HIGH,
        12.0 + i,
        12.0,
        f"fr {i}",
        f"en {i}",
        user,
    )


async def test_a_burst_of_transitions_is_journaled_completely_and_in_order(journal: AlarmJournal) -> None:
    """An alarm flood records thousands of transitions at once: none lost, order kept."""
    for i in range(3000):
        journal.record(event(i, alarm=f"a{i % 50}"), StoredAlarm(f"a{i % 50}", AlarmStatus.UNACK, True, T0))
    await journal.flush()
    got = await journal.events(T0, T0 + timedelta(hours=2))
    assert [e.ts for e in got] == [T0 + timedelta(seconds=i) for i in range(3000)]
    assert got[1] == event(1, alarm="a1")
    assert len(await journal.load()) == 50


async def test_the_latest_state_of_each_alarm_is_restored(journal: AlarmJournal) -> None:
    journal.record(event(0), StoredAlarm("a", AlarmStatus.UNACK, True, T0))
    shelved = StoredAlarm("a", AlarmStatus.SHELVED, True, T0, T0 + timedelta(hours=1), "Marie", T0, 13.62)
    journal.record(event(1, action=AlarmAction.SHELVED), shelved)
    await journal.flush()
    assert await journal.load() == {"a": shelved}


async def test_events_filter_by_alarm_and_time(journal: AlarmJournal) -> None:
    for i in range(10):
        journal.record(event(i, alarm="a" if i < 5 else "b"), StoredAlarm("x", AlarmStatus.NORMAL, False))
    await journal.flush()
    got = await journal.events(T0 + timedelta(seconds=2), T0 + timedelta(seconds=8), alarm="b")
    assert [e.ts.second for e in got] == [5, 6, 7]


@pytest.mark.cassandra
async def test_two_servers_journal_each_transition_once_with_the_server_that_saw_it_first(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Both servers of a site judge the same samples and carry out each other's commands: the
    site's journal (KPIs, the flood report) holds each transition once, not once per server."""
    settings = cassandra_settings(request.getfixturevalue("cassandra_node"))
    a = CassandraAlarmJournal(settings, tmp_path / "a.db", origin="vm-a")
    b = CassandraAlarmJournal(settings, tmp_path / "b.db", origin="vm-b")
    for journal in (a, b):
        await journal.start()
    try:

        def seen(journal: CassandraAlarmJournal, at: float, action: AlarmAction, status: AlarmStatus,
                 active: bool, user: str = "") -> None:  # fmt: skip
            change = AlarmEvent("hh", "dam.level", T0 + timedelta(seconds=at), action, status, active,
                                Priority.HIGH, 4.2, 4.0, "fr", "en", user)  # fmt: skip
            journal.record(change, StoredAlarm("hh", status, active, T0))

        for journal, lag in ((a, 0.0), (b, 0.04)):  # the same sample reaches b 40 ms later
            seen(journal, 0 + lag, AlarmAction.RAISED, AlarmStatus.UNACK, True)
        seen(a, 60, AlarmAction.ACKNOWLEDGED, AlarmStatus.ACKED, True, "Marie")  # Marie, on a's desktop
        seen(b, 61.2, AlarmAction.ACKNOWLEDGED, AlarmStatus.ACKED, True, "Marie")  # relayed to b
        seen(b, 90, AlarmAction.RETURNED, AlarmStatus.NORMAL, False)  # b's sample came first this time
        seen(a, 90.3, AlarmAction.RETURNED, AlarmStatus.NORMAL, False)
        seen(a, 93, AlarmAction.RAISED, AlarmStatus.UNACK, True)  # raised again 3 s later: a new one
        seen(b, 93.1, AlarmAction.RAISED, AlarmStatus.UNACK, True)
        for journal in (a, b):
            await journal.flush()
        for reader in (a, b):
            got = await reader.events(T0, T0 + timedelta(hours=1))
            assert [(e.action, e.origin, (e.ts - T0).total_seconds()) for e in got] == [
                (AlarmAction.RAISED, "vm-a", 0.0),
                (AlarmAction.ACKNOWLEDGED, "vm-a", 60.0),
                (AlarmAction.RETURNED, "vm-b", 90.0),
                (AlarmAction.RAISED, "vm-a", 93.0),
            ]
    finally:
        for journal in (a, b):
            await journal.stop()
