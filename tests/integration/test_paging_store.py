"""The paging-store contract, for every backend: SQLite (one server), Cassandra (the site's
shared tables) and the shared store of redundant servers (a local copy kept in step with
Cassandra); then what only redundant servers need: one claim wins, a follower copies the
leader's rows, and an acknowledgement a follower received reaches the leader."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.config.notify import BuiltIn
from core.model import AlarmAction, AlarmEvent, AlarmStatus, Priority
from core.notify.store import (
    ACKED,
    CLEARED,
    OPEN,
    SENDING,
    SENT,
    Delivery,
    DeliveryKind,
    PagedAlarm,
    PagingStore,
)
from core.storage.cassandra_session import connect
from core.storage.paging_cassandra import CassandraPagingStore
from core.storage.paging_shared import SharedPagingStore
from core.storage.paging_sqlite import SqlitePagingStore
from tests.integration.conftest import cassandra_settings

# real time: the shared store talks to Cassandra from worker threads
pytestmark = pytest.mark.looptime(False)
T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def _cassandra(settings: Any) -> CassandraPagingStore:
    return CassandraPagingStore(lambda: connect(settings, None), settings.timeout_s)


def make_cassandra(path: Path, request: pytest.FixtureRequest) -> Callable[[], PagingStore]:
    settings = cassandra_settings(request.getfixturevalue("cassandra_node"))
    return lambda: _cassandra(settings)


def make_shared(path: Path, request: pytest.FixtureRequest) -> Callable[[], PagingStore]:
    settings = cassandra_settings(request.getfixturevalue("cassandra_node"))
    return lambda: SharedPagingStore(SqlitePagingStore(path / "paging.db"), _cassandra(settings))


BACKENDS: dict[str, Callable[[Path, pytest.FixtureRequest], Callable[[], PagingStore]]] = {
    "sqlite": lambda path, _request: lambda: SqlitePagingStore(path / "paging.db"),
    "cassandra": make_cassandra,
    "shared": make_shared,
}


async def opened(store: PagingStore) -> PagingStore:
    store.open()
    if isinstance(store, SharedPagingStore):
        await store.start()
    return store


async def closed(store: PagingStore) -> None:
    if isinstance(store, SharedPagingStore):
        await store.stop()
    store.close()


@pytest.fixture(params=sorted(BACKENDS))
async def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], PagingStore]:
    return BACKENDS[request.param](tmp_path, request)


@pytest.fixture
async def store(factory: Callable[[], PagingStore]) -> AsyncIterator[PagingStore]:
    opened_store = await opened(factory())
    yield opened_store
    await closed(opened_store)


def delivery(incident: int, person: str, at: datetime, channel: str = "sms") -> Delivery:
    key = f"{incident}:page:0:0:{person}:{channel}"
    return Delivery(key, incident, DeliveryKind.PAGE, 0, 0, person, channel, SENDING, 0, "", at, at)


def raised(alarm: str, value: float | None = 4.5) -> AlarmEvent:
    return AlarmEvent(alarm, "dam.level", T0, AlarmAction.RAISED, AlarmStatus.UNACK, True, Priority.MEDIUM,
                      value, 4.0, "très haut", "very high")  # fmt: skip


async def test_incidents_get_increasing_ids_and_keep_every_field(store: PagingStore) -> None:
    first = store.open_incident("dam", T0)
    second = store.open_incident("sonde", T0 + timedelta(minutes=1))
    assert (first.id, second.id) == (1, 2) and (first.state, first.level, first.cycle) == (OPEN, 0, 0)
    assert first.code == "1"

    first.state, first.level, first.cycle = ACKED, 1, 2
    first.level_at, first.acked_by = T0 + timedelta(minutes=15), "Marie"
    first.acked_at = T0 + timedelta(hours=1)
    store.save(first)
    assert store.incident(1) == first
    assert store.incident(3) is None
    assert [i.id for i in store.incidents(OPEN)] == [2]
    assert [i.id for i in store.incidents(OPEN, ACKED)] == [1, 2]
    assert [i.id for i in store.recent(10)] == [2, 1]  # newest first
    assert [i.id for i in store.recent(1)] == [2]


async def test_an_incident_lists_its_alarms_in_order_and_which_are_still_active(store: PagingStore) -> None:
    incident = store.open_incident("dam", T0)
    other = store.open_incident("dam", T0)
    store.add_alarm(incident.id, raised("lauragais.level.hh"))
    store.add_alarm(incident.id, raised("lauragais.rate", None))
    store.set_alarm_active(incident.id, "lauragais.level.hh", False)
    store.set_alarm_active(incident.id, "never.added", False)  # nothing to update: nothing created
    assert store.alarms(incident.id) == [
        PagedAlarm(raised("lauragais.level.hh"), False),
        PagedAlarm(raised("lauragais.rate", None), True),
    ]
    assert store.alarms(other.id) == []
    assert [i.id for i in store.incidents_of("lauragais.rate", OPEN)] == [incident.id]
    assert store.incidents_of("lauragais.rate", CLEARED) == []


async def test_a_notice_by_a_built_in_channel_is_kept_under_its_word(store: PagingStore) -> None:
    """The cascade names its own channels with an enum: the stores keep the word (Cassandra's
    driver wrote an enum bare, and every write of a redundant server's notices was refused)."""
    incident = store.open_incident("dam", T0)
    notice = replace(delivery(incident.id, "alice", T0, BuiltIn.SMS), kind=DeliveryKind.ACK)
    assert store.claim(notice)
    store.update(replace(notice, state=SENT, attempts=1))
    store.attempt(notice.key, T0, SENT, "SM1")
    (kept,) = store.deliveries(incident.id)
    assert (kept.channel, kept.kind, kept.state) == ("sms", "ack", "sent")
    assert store.attempts(notice.key) == [(notice.key, T0, "sent", "SM1")]


async def test_a_delivery_is_claimed_once_and_its_progress_and_attempts_are_kept(store: PagingStore) -> None:
    incident = store.open_incident("dam", T0)
    alice = delivery(incident.id, "alice", T0)
    assert store.claim(alice)
    assert not store.claim(replace(alice, person="mallory"))  # the key is taken: never sent twice
    assert store.delivery(alice.key) == alice
    assert store.delivery("99:page:0:0:nobody:sms") is None

    sent = replace(alice, state=SENT, attempts=1, detail="SM123", updated_at=T0 + timedelta(seconds=2))
    store.update(sent)
    bob = delivery(incident.id, "bob", T0 + timedelta(seconds=1), channel="voice")
    assert store.claim(bob)
    assert store.delivery(alice.key) == sent
    assert store.deliveries(incident.id) == [sent, bob]  # in order of creation
    assert store.deliveries(incident.id, SENDING) == [bob]
    assert store.deliveries(None, SENT) == [sent]

    store.attempt(alice.key, T0 + timedelta(seconds=1), SENDING, "")
    store.attempt(alice.key, T0 + timedelta(seconds=2), SENT, "SM123")
    store.attempt(bob.key, T0 + timedelta(seconds=3), SENDING, "")
    assert store.attempts(alice.key) == [
        (alice.key, T0 + timedelta(seconds=1), SENDING, ""),
        (alice.key, T0 + timedelta(seconds=2), SENT, "SM123"),
    ]
    assert [a[0] for a in store.attempts()] == [alice.key, alice.key, bob.key]


async def test_a_webhook_is_seen_once_and_an_acknowledgement_is_kept(store: PagingStore) -> None:
    assert store.first_time("SM" + "1" * 32, T0)
    assert not store.first_time("SM" + "1" * 32, T0 + timedelta(seconds=5))  # Twilio's retry
    incident = store.open_incident("dam", T0)
    store.acknowledge(incident, "Bob Durand", T0 + timedelta(minutes=3))
    kept = store.incident(incident.id)
    assert kept is not None and (kept.state, kept.acked_by) == (ACKED, "Bob Durand")
    assert await store.reserve(delivery(incident.id, "bob", T0))


async def test_everything_survives_closing_and_opening_again(factory: Callable[[], PagingStore]) -> None:
    store = await opened(factory())
    incident = store.open_incident("dam", T0)
    store.add_alarm(incident.id, raised("a"))
    page = delivery(incident.id, "alice", T0)
    store.claim(page)
    store.attempt(page.key, T0, SENDING, "")
    await closed(store)

    store = await opened(factory())
    try:
        assert store.incident(incident.id) == incident
        assert store.alarms(incident.id) == [PagedAlarm(raised("a"))]
        assert store.delivery(page.key) == page and store.attempts(page.key) == [(page.key, T0, SENDING, "")]
        assert store.open_incident("dam", T0).id == incident.id + 1
    finally:
        await closed(store)


# --- redundant servers: two shared stores on one keyspace -------------------------------------------


@pytest.fixture
async def pair(
    tmp_path: Path, cassandra_node: Any
) -> AsyncIterator[tuple[SharedPagingStore, SharedPagingStore]]:
    settings = cassandra_settings(cassandra_node)
    stores = [SharedPagingStore(SqlitePagingStore(tmp_path / f"{name}.db"), _cassandra(settings))
              for name in ("leader", "follower")]  # fmt: skip
    for store in stores:
        await opened(store)
    yield stores[0], stores[1]
    for store in stores:
        await closed(store)


async def test_two_servers_claiming_one_delivery_only_one_may_send(
    pair: tuple[SharedPagingStore, SharedPagingStore],
) -> None:
    leader, follower = pair
    incident = leader.open_incident("dam", T0)
    page = delivery(incident.id, "alice", T0)
    assert leader.claim(page) and follower.claim(page)  # each local copy says yes…
    assert await leader.reserve(page)
    assert not await follower.reserve(page)  # …Cassandra says who sends
    follower.update(replace(page, state="skipped", detail="claimed by another server"))
    await follower.flush()
    await leader.flush()
    await follower.pull()
    assert follower.delivery(page.key) == page  # the follower's local row gave way to the leader's


async def test_a_follower_copies_the_leader_and_its_acknowledgement_reaches_the_leader(
    pair: tuple[SharedPagingStore, SharedPagingStore],
) -> None:
    leader, follower = pair
    incident = leader.open_incident("dam", T0)
    leader.add_alarm(incident.id, raised("lauragais.level.hh"))
    page = delivery(incident.id, "alice", T0)
    leader.claim(page)
    assert await leader.reserve(page)
    sent = replace(page, state=SENT, attempts=1, detail="SM1", updated_at=T0 + timedelta(seconds=1))
    leader.update(sent)
    leader.attempt(page.key, T0 + timedelta(seconds=1), SENT, "SM1")
    incident.level, incident.level_at = 1, T0 + timedelta(minutes=15)
    leader.save(incident)
    await leader.flush()

    assert await follower.pull() == 1
    assert follower.incident(incident.id) == incident
    assert follower.alarms(incident.id) == [PagedAlarm(raised("lauragais.level.hh"))]
    assert follower.deliveries(incident.id) == [sent]
    assert follower.attempts(page.key) == [(page.key, T0 + timedelta(seconds=1), SENT, "SM1")]
    assert await follower.pull() == 0  # nothing new

    assert await leader.taken_elsewhere() == []
    mine = follower.incident(incident.id)
    assert mine is not None
    follower.acknowledge(mine, "Bob Durand", T0 + timedelta(minutes=16))  # an SMS reply reached it
    await follower.flush()
    taken = await leader.taken_elsewhere()
    assert [(i.id, i.acked_by) for i in taken] == [(incident.id, "Bob Durand")]
    # and a new leader's ids continue after the old leader's
    assert follower.open_incident("dam", T0).id == incident.id + 1


def test_a_paging_file_written_before_the_whole_event_was_kept_reads_each_alarm_as_its_raise(
    tmp_path: Path,
) -> None:
    """The store migration: an incident's alarms stored as the old record (tag, priority,
    messages, value, time) come back as the events that raised them."""
    import json
    import sqlite3

    store = SqlitePagingStore(tmp_path / "notify.db")
    store.open()
    incident = store.open_incident("dam", T0)
    store.close()
    old = json.dumps({"tag": "dam.level", "priority": 1, "message_fr": "très haut", "message_en": "very high",
                      "value": 4.5, "ts": T0.isoformat()})  # fmt: skip
    with sqlite3.connect(tmp_path / "notify.db") as db:
        db.execute(
            "INSERT INTO incident_alarms VALUES (?, ?, ?, 1)", (incident.id, "level:dam.level:HH", old)
        )
    store.open()
    try:
        (paged,) = store.alarms(incident.id)
    finally:
        store.close()
    event = paged.event
    assert (event.alarm, event.tag, event.action, event.status, event.priority) == (
        "level:dam.level:HH", "dam.level", AlarmAction.RAISED, AlarmStatus.UNACK, Priority.CRITICAL
    )  # fmt: skip
    assert (event.value, event.message_fr, event.ts, paged.active) == (4.5, "très haut", T0, True)
