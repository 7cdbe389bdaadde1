"""Failover and stalls: an escalation never silently skips a level.

Run on the loop's virtual clock (looptime) against Prism: a supervisor that is down longer than
a level's delay pages, at restart, every level whose time has passed, each message saying how
late it is, and gives the people just paged the level's full time to answer.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import LoopClock
from core.model import utcnow
from tests.conftest import eventually
from tests.integration.conftest import cassandra_settings
from tests.integration.paging_bench import ALICE, BOB, paging_site, start_bench, two_levels
from tests.integration.paging_peers import RecordingProxy

pytestmark = [pytest.mark.looptime, pytest.mark.paging, pytest.mark.usefixtures("credentials")]


async def test_a_server_down_past_level_two_pages_it_late_at_restart_and_does_not_give_up(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    policy = {**two_levels(["sms"], ["sms"]), "repeat": 1}  # 15 min + 15 min, once
    config = paging_site(twilio, policy)
    clock = LoopClock()
    bench = await start_bench(config, tmp_path, clock)
    bench.level(4.5)
    await bench.settled()
    assert [p.form["To"] for p in twilio.pages()] == [ALICE]
    await bench.stop()  # the only server stops for 31 minutes

    await asyncio.sleep(31 * 60)
    bench = await start_bench(config, tmp_path, clock)
    await bench.settled()
    pages = twilio.pages()
    assert [p.form["To"] for p in pages] == [ALICE, BOB]  # level 1 not again, level 2 not skipped
    assert pages[1].form["Body"].startswith("LATE by 16 min — [1] CRITICAL")  # Bob reads English
    incident = bench.cascade.store.incident(1)
    assert incident is not None and incident.state == "open"  # Bob gets his 15 minutes to answer

    await asyncio.sleep(14 * 60)
    await bench.settled()
    assert bench.cascade.store.incident(1).state == "open"  # type: ignore[union-attr]
    await asyncio.sleep(2 * 60)
    await bench.settled()
    assert bench.cascade.store.incident(1).state == "exhausted"  # type: ignore[union-attr]
    assert len(twilio.pages()) == 2 and twilio.invalid() == []
    await bench.stop()


async def test_on_time_levels_are_not_marked_late(tmp_path: Path, twilio: RecordingProxy) -> None:
    bench = await start_bench(paging_site(twilio, {**two_levels(["sms"], ["sms"]), "repeat": 1}), tmp_path)
    bench.level(4.5)
    for _ in range(2):
        await asyncio.sleep(15 * 60)
        await bench.settled()
    bodies = [p.form["Body"] for p in twilio.pages()]
    assert len(bodies) == 2 and not any("LATE" in b or "RETARD" in b for b in bodies)
    assert bench.cascade.store.incident(1).state == "exhausted"  # type: ignore[union-attr]
    await bench.stop()


async def test_a_follower_opens_nothing_sends_nothing_and_pages_from_the_raise_when_it_takes_over(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    leads = False
    bench = await start_bench(
        paging_site(twilio, two_levels(["sms"], ["sms"])), tmp_path, leading=lambda: leads
    )
    bench.level(4.5)
    await asyncio.sleep(20 * 60)
    await bench.settled()
    assert twilio.pages() == [] and bench.cascade.store.incident(1) is None  # the leader's job
    leads = True  # the leader died before paging: the follower saw the alarm raised 20 min ago
    bench.cascade.resume()
    await bench.settled()
    pages = twilio.pages()
    # level 2's time has come too (both are due at once: they may reach Twilio in either order)
    assert sorted(p.form["To"] for p in pages) == sorted([ALICE, BOB])
    assert all(p.form["Body"].startswith(("EN RETARD", "LATE")) for p in pages)
    await bench.stop()


SMS_THEN_VOICE = {
    "id": "crue",
    "repeat": 1,
    "levels": [
        {
            "targets": [{"oncall": "astreinte"}],
            "channels": ["sms", "voice"],
            "channel_step_min": 0.1,
            "delay_min": 1,
        },
    ],
}  # fmt: skip  (Alice: an SMS, her call 6 s later, a minute for the level)


async def test_the_call_due_while_the_server_was_down_is_placed_at_restart_marked_late(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    config = paging_site(twilio, SMS_THEN_VOICE)
    clock = LoopClock()
    bench = await start_bench(config, tmp_path, clock)
    bench.level(4.5)
    await bench.settled()
    assert [(p.kind, p.form["To"]) for p in twilio.pages()] == [("sms", ALICE)]
    await bench.stop()  # down right after Alice's SMS, back after the level's minute

    await asyncio.sleep(2 * 60)
    bench = await start_bench(config, tmp_path, clock)
    await bench.settled()
    pages = twilio.pages()
    assert [(p.kind, p.form["To"]) for p in pages] == [("sms", ALICE), ("voice", ALICE)]
    assert "EN RETARD de 2 min" in pages[1].form["Twiml"]  # due at 6 s, placed at 2 min
    call = bench.cascade.store.delivery("1:page:0:0:alice:voice")
    assert call is not None and call.state == "sent"
    await bench.stop()


async def test_the_call_due_during_a_takeover_is_placed_by_the_new_leader_marked_late(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    leads = True
    bench = await start_bench(paging_site(twilio, SMS_THEN_VOICE), tmp_path, leading=lambda: leads)
    bench.level(4.5)
    await bench.settled()
    leads = False  # the leader dies after the SMS; the takeover ends after the level's minute
    await asyncio.sleep(80)
    await bench.settled()
    assert [p.kind for p in twilio.pages()] == ["sms"]
    leads = True
    bench.cascade.resume()
    await bench.settled()
    pages = twilio.pages()
    assert [(p.kind, p.form["To"]) for p in pages] == [("sms", ALICE), ("voice", ALICE)]
    assert "EN RETARD de 1 min" in pages[1].form["Twiml"]
    await bench.stop()


# --- the leader lease on a real Cassandra node ----------------------------------------------------


class Monotonic:
    """A process's monotonic clock that a test can jump, as a SIGSTOP would."""

    def __init__(self) -> None:
        self.offset, self._time = 0.0, time.monotonic

    def __call__(self) -> float:
        return self._time() + self.offset


@pytest.mark.cassandra
@pytest.mark.looptime(False)
async def test_one_leader_failover_within_the_lease_and_a_paused_leader_is_fenced(
    cassandra_node: Any,
) -> None:
    from core.storage.cassandra_session import connect
    from core.storage.lease import Lease

    settings = cassandra_settings(cassandra_node)
    clocks = [Monotonic(), Monotonic()]
    a, b = (Lease(lambda: connect(settings, None), "pager", name, ttl_s=3, monotonic=clock)
            for name, clock in zip(("a", "b"), clocks, strict=True))  # fmt: skip
    try:
        await a.cycle()
        await b.cycle()
        assert a.leading() and not b.leading() and b.leader == "a"  # one winner

        clocks[0].offset = 10.0  # a is paused past its lease: it knows before sending anything
        assert not a.leading()
        deadline = time.monotonic() + 60  # the row lives until its TTL runs out in Cassandra
        while not b.leading():
            assert time.monotonic() < deadline, "b did not take over"
            await b.cycle()
            await asyncio.sleep(0.2)
        await a.cycle()  # a wakes up: its renewal is refused
        assert not a.leading() and a.leader == "b"

        await b.stop()  # a clean stop hands the lease back at once
        await a.cycle()
        assert a.leading() and a.changes == 3  # gained, lost, gained again
    finally:
        await a.stop()
        await b.stop()


def server_processes(test: Any) -> Any:
    """A test of real server processes on a Cassandra node: slow, on real time, minutes allowed."""
    for mark in (
        pytest.mark.slow,
        pytest.mark.cassandra,
        pytest.mark.looptime(False),
        pytest.mark.timeout(900),
    ):
        test = mark(test)
    return test


def _pager(api: Any) -> str | None:
    import httpx

    try:
        return httpx.get(f"{api.url}/health", timeout=2).json().get("pager")
    except httpx.HTTPError:
        return None


def _until(condition: Any, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


def _two_servers(
    tmp_path: Path, twilio: RecordingProxy, node: Any, levels: list[dict[str, Any]] | None = None
) -> list[Any]:
    """Two ``ecreteur server`` processes (not started) of one site on one Cassandra keyspace."""
    from tests.integration.api_server import SITE, ApiServer
    from tests.integration.test_paging_restart import paging_yaml

    keyspace = cassandra_settings(node).keyspace
    where = f"port: {node.port}, keyspace: {keyspace}, consistency: ONE, lease_ttl_s: 3"
    site = SITE + paging_yaml(twilio, levels) + f"storage: {{backend: cassandra, cassandra: {{{where}}}}}\n"
    servers = []
    tokens: dict[str, str] = {}  # the site's API tokens, made once: redundant servers share them
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        servers.append(ApiServer(tmp_path / name, site=site, tokens=tokens))
    return servers


def _probe_above_h(servers: list[Any]) -> Any:
    """Post one sample above the probe's H limit to every server (each acquires); when."""
    import httpx

    from core.model import utcnow

    posted_at = utcnow()
    sample = {"tag": "sondes.probe", "ts": posted_at.isoformat(), "value": 60.0}  # above H 50
    for server in servers:
        url, ingest = f"{server.url}/samples", server.headers("ingest")
        answer = httpx.post(url, json={"samples": [sample]}, headers=ingest)
        assert answer.status_code == 200, answer.text
    return posted_at


@server_processes
def test_two_servers_elect_one_pager_and_fail_over_on_kill_and_on_a_pause(
    tmp_path: Path, twilio: RecordingProxy, cassandra_node: Any
) -> None:
    import os
    import signal

    first, second = _two_servers(tmp_path, twilio, cassandra_node)
    try:
        first.start(with_station=False)
        second.start(with_station=False)
        _until(lambda: {_pager(first), _pager(second)} == {"this server", "another server"}, "one pager")
        leader, follower = (first, second) if _pager(first) == "this server" else (second, first)

        _probe_above_h([first, second])
        _until(lambda: twilio.pages("sms"), "level 1 from the leader")
        os.kill(leader.server.pid, signal.SIGSTOP)  # paused past its lease, level 2 due meanwhile
        _until(lambda: _pager(follower) == "this server", "the follower takes over")
        _until(lambda: [p for p in twilio.pages("sms") if p.form["To"] == BOB], "level 2 from the new leader")
        os.kill(leader.server.pid, signal.SIGCONT)
        _until(lambda: _pager(leader) == "another server", "the paused leader knows it lost")
        assert _pager(follower) == "this server"
        assert [p.form["To"] for p in twilio.pages()] == [ALICE, BOB]  # the woken leader sent nothing

        follower.server.kill()  # kill -9 of the new leader: the first takes the lead back
        follower.server.wait()
        _until(lambda: _pager(leader) == "this server", "failover after kill -9")
        metrics = __import__("httpx").get(f"{leader.url}/metrics", headers=leader.headers("read")).text
        assert "ecreteur_leader{" in metrics and "} 1" in metrics.split("ecreteur_leader{")[1].split("\n")[0]
    finally:
        first.stop()
        second.stop()


@server_processes
def test_kill_9_of_the_leader_mid_escalation_the_other_server_resumes_from_the_shared_store(
    tmp_path: Path, twilio: RecordingProxy, cassandra_node: Any
) -> None:
    """Level 1 went out from the leader; the leader dies; the other server pages level 2 on
    time, never level 1 again, and an SMS reply posted to it acknowledges."""
    import httpx

    from tests.integration.paging_peers import signed_sms_reply

    servers = _two_servers(tmp_path, twilio, cassandra_node)
    try:
        for server in servers:
            server.start(with_station=False)
        _until(lambda: {_pager(s) for s in servers} == {"this server", "another server"}, "one pager")
        leader, follower = servers if _pager(servers[0]) == "this server" else servers[::-1]

        posted_at = _probe_above_h(servers)
        _until(lambda: twilio.pages("sms"), "level 1 from the leader")
        leader.server.kill()  # SIGKILL mid-escalation: level 2 is due 6 s after the raise
        leader.server.wait()

        _until(lambda: _pager(follower) == "this server", "the other server takes over")
        bob = _until(lambda: [p for p in twilio.pages("sms") if p.form["To"] == BOB], "level 2")[0]
        assert bob.at - posted_at >= timedelta(seconds=6)  # not before its time
        assert "LATE" not in bob.form["Body"] and "RETARD" not in bob.form["Body"]
        assert [p.form["To"] for p in twilio.pages()] == [ALICE, BOB]  # level 1 not sent again

        reply, signed = signed_sms_reply(BOB, "OK 1", "SM" + "5" * 32)
        url = f"http://127.0.0.1:{follower.api_port}/api/v1/twilio/sms"
        answer = httpx.post(url, data=reply, headers=signed)
        assert answer.status_code == 200 and "Alarm 1 acknowledged" in answer.text
        _until(lambda: len(twilio.pages()) == 3, "Alice told who acknowledged")
        told = twilio.pages()[2]
        assert told.form["To"] == ALICE and "acquittée par Bob Durand" in told.form["Body"]
        assert twilio.invalid() == []
        alarms = httpx.get(f"{follower.url}/alarms", headers=follower.headers("read")).json()
        assert next(a for a in alarms if a["tag"] == "sondes.probe")["status"] == "acknowledged"
        metrics = lambda: httpx.get(f"{follower.url}/metrics", headers=follower.headers("read")).text  # noqa: E731
        _until(lambda: "ecreteur_paging_backlog 0\n" in metrics(), "every paging write in Cassandra")
    finally:
        for server in servers:
            server.stop()


@server_processes
def test_both_servers_killed_after_the_sms_the_call_due_goes_out_late_once_and_the_journal_says_it_once(
    tmp_path: Path, twilio: RecordingProxy, cassandra_node: Any
) -> None:
    """kill -9 of both servers right after Alice's SMS, back after her call fell due: the call is
    placed once, by whichever server leads, marked late; the site's journal holds each
    transition once with the server that saw it, although both servers judged the sample."""
    import httpx

    servers = _two_servers(tmp_path, twilio, cassandra_node, SMS_THEN_VOICE["levels"])  # type: ignore[arg-type]
    try:
        for server in servers:
            server.start(with_station=False)
        _until(lambda: {_pager(s) for s in servers} == {"this server", "another server"}, "one pager")
        _probe_above_h(servers)
        sms = _until(lambda: twilio.pages("sms"), "Alice's SMS")[0]
        for server in servers:  # the whole site goes down: no goodbye, no lease handed back
            server.server.kill()
        for server in servers:
            server.server.wait()
            server.stop()
        _until(lambda: utcnow() - sms.at > timedelta(seconds=12), "Alice's call falls due (6 s) and passes")

        for server in servers:
            server.start(with_station=False)
        call = _until(lambda: twilio.pages("voice"), "Alice's call after the restart", timeout=180)[0]
        assert call.form["To"] == ALICE and "EN RETARD de" in call.form["Twiml"]
        assert call.at - sms.at >= timedelta(seconds=12)
        _until(lambda: {_pager(s) for s in servers} == {"this server", "another server"}, "one pager again")
        leader = next(s for s in servers if _pager(s) == "this server")
        alarm = "probe:sondes.probe:H"
        acked = httpx.post(
            f"{leader.url}/alarms/{alarm}/ack", json={"user": "Marie"}, headers=leader.headers("operate")
        )
        assert acked.status_code == 200, acked.text
        assert [(p.kind, p.form["To"]) for p in twilio.pages() if p.kind in ("sms", "voice")][:2] == [
            ("sms", ALICE),
            ("voice", ALICE),
        ]
        assert len(twilio.pages("voice")) == 1  # neither server placed it twice
        assert twilio.invalid() == []

        def journal(server: Any) -> list[tuple[str, str | None]]:
            answer = httpx.get(
                f"{server.url}/alarms/journal", params={"alarm": alarm}, headers=server.headers("read")
            )
            return [(e["action"], e["server"]) for e in answer.json()["entries"]]

        for reader in servers:
            got = _until(
                lambda r=reader: (j := journal(r)) and j[-1][0] == "acknowledged" and j, "the ack journaled"
            )
            assert [action for action, _ in got] == ["raised", "acknowledged"], got
            assert all(server for _, server in got), got
    finally:
        for server in servers:
            server.stop()


@pytest.mark.cassandra
@pytest.mark.looptime(False)
async def test_a_new_server_with_no_local_state_restores_the_sites_alarm_states_from_cassandra(
    tmp_path: Path, cassandra_node: Any
) -> None:
    from core.alarms.journal import StoredAlarm
    from core.model import AlarmStatus
    from core.storage.cassandra_journal import CassandraAlarmJournal
    from tests.integration.test_journal_contract import T0, event

    settings = cassandra_settings(cassandra_node)
    first = CassandraAlarmJournal(settings, tmp_path / "a" / "alarms.db")
    await first.start()
    marie = ("Marie", T0 + timedelta(minutes=1))
    acked = StoredAlarm("lauragais.level.hh", AlarmStatus.ACKED, True, T0, None, *marie)
    first.record(event(1, "lauragais.level.hh", "acknowledged"), acked)
    await first.flush()
    await first.stop()

    second = CassandraAlarmJournal(settings, tmp_path / "b" / "alarms.db")  # a new VM: empty data directory
    await second.start()
    try:
        assert await second.load() == {"lauragais.level.hh": acked}  # acknowledged by Marie, still active
    finally:
        await second.stop()


@server_processes
async def test_clients_follow_the_leader_with_one_session_and_a_revocation_reaches_every_server(
    tmp_path: Path, twilio: RecordingProxy, cassandra_node: Any
) -> None:
    """Accounts, sessions and tokens are the site's: a desktop given both servers signs in on
    the first, keeps its session when that server dies, and acts on the other; a token revoked
    on one server stops working on the other. (Blocking calls go to a thread: the desktop's
    runtime shares this loop.)"""
    import subprocess
    import sys

    import httpx

    from core.client.session import sign_in
    from core.config import load_config
    from core.model import utcnow
    from core.runtime import Runtime
    from tests.conftest import REPO, eventually
    from tests.integration.api_server import cli

    first, second = servers = _two_servers(tmp_path, twilio, cassandra_node)
    runtime = None
    run = asyncio.to_thread
    try:
        for server in servers:
            await run(server.start, with_station=False)
        add = [sys.executable, "-m", "core.cli", "user", "add", "marie", "--role", "operator", "--config",
               str(first.config), "--data-dir", str(first.data)]  # fmt: skip
        made = await run(subprocess.run, add, input="vanne-de-fond-50\n", capture_output=True, text=True,
                         cwd=REPO, timeout=120, check=False)  # fmt: skip
        assert made.returncode == 0, made.stderr
        both = f"http://127.0.0.1:{first.api_port}, http://127.0.0.1:{second.api_port}"
        session = await sign_in(both, "marie", "vanne-de-fond-50")  # the account was added on the first
        assert session.url == f"http://127.0.0.1:{first.api_port}"
        async with httpx.AsyncClient(timeout=30) as http:
            me = await http.get(f"{second.url}/auth/me", headers={"Authorization": f"Bearer {session.token}"})
            assert me.status_code == 200 and me.json()["user"] == "marie"  # one session, every server

            runtime = Runtime(load_config(first.config), config_path=first.config, data_dir=tmp_path / "desk",
                              session=session)  # fmt: skip
            await runtime.start()
            board = runtime.board
            await eventually(lambda: board.authority.reachable, 120, "the desktop connected")
            await run(_probe_above_h, servers)
            alarm = "probe:sondes.probe:H"
            await eventually(
                lambda: any(v.id == alarm for v in board.views()), 120, "the desktop annunciates"
            )

            first.server.kill()  # the desktop's server dies
            await run(first.server.wait)
            await eventually(
                lambda: (
                    board.authority.reachable and str(board.authority.server).endswith(str(second.api_port))
                ),
                120,
                "the desktop on the other server",
            )
            await board.acknowledge(session.actor(), alarm, "vu après la bascule")
            served = (await http.get(f"{second.url}/alarms", headers=second.headers("read"))).json()
            probe = next(a for a in served if a["id"] == alarm)
            assert (probe["status"], probe["acknowledged_by"]) == ("acknowledged", "marie")

            made = await run(cli, "token", "create", "sonde-iot", "--scope", "ingest", "--config",
                             str(second.config), "--data-dir", str(second.data))  # fmt: skip
            assert made.returncode == 0, made.stderr
            iot = {"Authorization": f"Bearer {made.stdout.strip()}"}
            await run(first.start, with_station=False)  # back: it knows the token made on the other
            sample = {"samples": [{"tag": "sondes.probe", "ts": utcnow().isoformat(), "value": 10.0}]}
            assert (await http.post(f"{first.url}/samples", json=sample, headers=iot)).status_code == 200
            revoked = await run(cli, "token", "revoke", "sonde-iot", "--config", str(second.config),
                                "--data-dir", str(second.data))  # fmt: skip
            assert revoked.returncode == 0, revoked.stderr

            async def refused() -> bool:
                return (await http.post(f"{first.url}/samples", json=sample, headers=iot)).status_code == 401

            deadline = time.monotonic() + 30
            while not await refused():
                assert time.monotonic() < deadline, "the revocation did not reach the other server"
                await asyncio.sleep(0.1)
    finally:
        if runtime is not None:
            await runtime.stop()
        for server in servers:
            await run(server.stop)


@pytest.mark.cassandra
@pytest.mark.looptime(False)
async def test_an_ack_on_the_follower_just_before_a_due_page_stops_it_every_time(
    cassandra_node: Any, twilio: RecordingProxy, tmp_path: Path
) -> None:
    """Two servers' cascades on one Cassandra keyspace: Alice's call is due 1.2 s after her SMS;
    the follower accepts an acknowledgement 0.1 s before it. Over 20 incidents, no call leaves
    after the acknowledgement was answered (the leader re-reads the shared incident between its
    claim and its send; the follower answers once Cassandra holds the acknowledgement)."""
    from core.bus import Bus
    from core.model import AlarmAction, AlarmEvent, AlarmStatus, Priority
    from core.notify import factory
    from core.notify.cascade import Cascade
    from core.storage.cassandra_session import connect
    from core.storage.paging_cassandra import CassandraPagingStore
    from core.storage.paging_shared import SharedPagingStore
    from core.storage.paging_sqlite import SqlitePagingStore

    settings = cassandra_settings(cassandra_node)
    policy = {"id": "crue", "repeat": 1, "levels": [{"targets": [{"oncall": "astreinte"}],
              "channels": ["sms", "voice"], "channel_step_min": 0.02, "delay_min": 5}]}  # fmt: skip
    config = paging_site(twilio, policy)
    clock = LoopClock()
    told: list[str] = []

    def cascade(name: str, leads: bool) -> Cascade:
        shared = CassandraPagingStore(lambda: connect(settings, None), 5.0)
        store = SharedPagingStore(SqlitePagingStore(tmp_path / f"{name}.db"), shared)
        channels = factory.build(config.notify).channels

        def acknowledge(alarm: str, by: str, how: str) -> bool:
            told.append(alarm)
            return True

        return Cascade(config, Bus(), clock, store, channels, acknowledge, leading=lambda: leads)

    leader, follower = cascade("a", True), cascade("b", False)
    await leader.start()
    await follower.start()
    try:
        late_calls = 0

        def event(n: int, action: AlarmAction, status: AlarmStatus, user: str = "") -> AlarmEvent:
            return AlarmEvent(f"level:lauragais.level:HH{n}", "lauragais.level", clock.now(), action, status,
                              True, Priority.CRITICAL, 4.5, 4.0, "Niveau très haut", user=user)  # fmt: skip

        for n in range(20):
            leader.on_alarm(event(n, AlarmAction.RAISED, AlarmStatus.UNACK))
            incident = leader.store.incidents("open")[-1]
            await leader.store.flush()
            await follower.store.pull()
            due = incident.level_at + timedelta(seconds=1.2)
            await asyncio.sleep(max((due - clock.now()).total_seconds() - 0.1, 0))
            follower.on_alarm(event(n, AlarmAction.ACKNOWLEDGED, AlarmStatus.ACKED, "Opératrice PC crue"))
            await follower.settled()
            accepted = time.perf_counter()
            await asyncio.sleep(1.5)  # past the call's time
            late_calls += sum(1 for p in twilio.pages("voice") if p.received > accepted)
            await eventually(  # the leader learns it from Cassandra, however loaded the machine
                lambda i=incident: leader.store.incident(i.id).state == "acknowledged",  # type: ignore[union-attr]
                what="the leader knows of the acknowledgement",
            )
        assert late_calls == 0
        assert len(twilio.pages("sms")) >= 20 and twilio.invalid() == []
    finally:
        await follower.stop()
        await leader.stop()


@pytest.mark.cassandra
@pytest.mark.looptime(False)
async def test_after_a_cassandra_outage_the_shared_record_lists_every_send_from_both_servers(
    cassandra_node: Any, twilio: RecordingProxy, tmp_path: Path
) -> None:
    """Cassandra away: both servers page (fail-open), both SMS reach Alice. When it returns,
    the incident on record holds both messages, the second flagged as a duplicate."""
    from core.bus import Bus
    from core.model import AlarmAction, AlarmEvent, AlarmStatus, Priority
    from core.notify import factory
    from core.notify.cascade import Cascade
    from core.storage.cassandra_session import connect
    from core.storage.paging_cassandra import CassandraPagingStore
    from core.storage.paging_shared import SharedPagingStore
    from core.storage.paging_sqlite import SqlitePagingStore
    from tests.integration.tcp_proxy import CuttableProxy

    proxy = CuttableProxy(cassandra_node.port)
    await proxy.start()
    proxy.block()  # Cassandra unreachable from both servers
    behind = cassandra_settings(cassandra_node, port=proxy.port, timeout_s=2)
    direct = cassandra_settings(cassandra_node, keyspace=behind.keyspace)
    config = paging_site(twilio, {"id": "crue", "repeat": 1, "levels": [
        {"targets": [{"oncall": "astreinte"}], "channels": ["sms"], "delay_min": 30}]})  # fmt: skip
    clock = LoopClock()

    def server(name: str) -> Cascade:
        shared = CassandraPagingStore(lambda: connect(behind, None), 2.0)
        store = SharedPagingStore(SqlitePagingStore(tmp_path / f"{name}.db"), shared, f"vm-{name}")
        channels = factory.build(config.notify).channels
        return Cascade(config, Bus(), clock, store, channels, lambda *_: True)  # fail-open: both lead

    servers = [server("a"), server("b")]
    raised = AlarmEvent("level:lauragais.level:HH", "lauragais.level", clock.now(), AlarmAction.RAISED,
                        AlarmStatus.UNACK, True, Priority.CRITICAL, 4.5, 4.0, "Niveau très haut")  # fmt: skip
    try:
        for cascade in servers:
            await cascade.start()
            cascade.on_alarm(raised)
        deadline = time.monotonic() + 60
        while len(twilio.pages("sms")) < 2:
            assert time.monotonic() < deadline, "both servers did not page"
            await asyncio.sleep(0.1)
        assert [c.store.fail_open_sends for c in servers] == [1, 1]  # type: ignore[attr-defined]

        proxy.unblock()  # Cassandra is back: each server's record is forwarded
        for cascade in servers:
            while cascade.store.backlog:  # type: ignore[attr-defined]
                assert time.monotonic() < deadline + 120, "records not forwarded"
                await asyncio.sleep(0.2)
        record = CassandraPagingStore(lambda: connect(direct, None), 5.0)
        await asyncio.to_thread(record.open)
        deliveries = await asyncio.to_thread(record.deliveries, 1)
        await asyncio.to_thread(record.close)
        keys = sorted(d.key for d in deliveries)
        assert keys[0] == "1:page:0:0:alice:sms" and keys[1].startswith("1:page:0:0:alice:sms!vm-")
        assert len(keys) == 2 and {d.state for d in deliveries} == {"sent"}
        twin = next(d for d in deliveries if "!" in d.key)
        assert twin.detail.startswith(
            "duplicate: also sent by another server while Cassandra was unreachable"
        )
    finally:
        for cascade in servers:
            await cascade.stop()
        await proxy.stop()
