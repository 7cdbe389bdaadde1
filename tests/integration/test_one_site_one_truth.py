"""One site, one alarm truth: the server is the authority, its faces act through one surface.

Against a real `ecreteur server` process: roles decide who may act (the server refuses what
the role does not allow), every command is in the audit trail with who and from where, and a
mode entered by an engineer survives a restart of the server and can still be left.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from core.model import utcnow
from tests.conftest import REPO, eventually, wait_until
from tests.integration.api_server import SITE, ApiServer
from tests.integration.paging_bench import ALICE, BOB, roster
from tests.integration.paging_peers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    Mailbox,
    RecordingProxy,
    Sent,
    smtp_server,
)

_LOGGER = logging.getLogger(__name__)
ALARM = "probe:sondes.probe:H"
MAINTENANCE_SITE = SITE.replace(
    "kind: limits, limits: {H: {value: 50.0}}}",
    "kind: limits, limits: {H: {value: 50.0}}, suppressed_in: [maintenance]}",
)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path, site=MAINTENANCE_SITE)
    server.start(with_station=False)
    yield server
    server.stop()


def alarm_status(api: ApiServer) -> str | None:
    alarms = httpx.get(f"{api.url}/alarms", headers=api.headers("read")).json()
    return next((a["status"] for a in alarms if a["id"] == ALARM), None)


def operator_commands(api: ApiServer, since: str | None = None) -> list[dict[str, str]]:
    """The audit trail without the administrator's set-up (tokens created from the CLI)."""
    params = {"from": since} if since else {}
    trail = httpx.get(f"{api.url}/audit", params=params, headers=api.headers("admin")).json()
    return [entry for entry in trail if entry["origin"] != "cli"]


def raise_probe_alarm(api: ApiServer) -> None:
    sample = {"tag": "sondes.probe", "ts": utcnow().isoformat(), "value": 60.0}
    posted = httpx.post(f"{api.url}/samples", json={"samples": [sample]}, headers=api.headers("ingest"))
    assert posted.status_code == 200, posted.text


@pytest.mark.slow
def test_a_viewer_cannot_acknowledge_and_the_refusal_is_audited(api: ApiServer) -> None:
    raise_probe_alarm(api)
    wait_until(lambda: alarm_status(api) == "unacknowledged", what="the alarm raised")
    ack = f"{api.url}/alarms/{ALARM}/ack"
    refused = httpx.post(ack, json={"user": "Léa"}, headers=api.headers("read"))
    assert refused.status_code == 403
    assert alarm_status(api) == "unacknowledged"
    done = httpx.post(ack, json={"user": "Marie", "comment": "vu"}, headers=api.headers("operate"))
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    listed = httpx.get(f"{api.url}/alarms", headers=api.headers("read")).json()
    mine = next(a for a in listed if a["id"] == ALARM)
    assert mine["station"] == "sondes" and mine["station_name"] == "Sondes IoT"
    assert mine["acknowledged_by"] == "Marie" and mine["raised_value"] == 60.0
    trail = operator_commands(api)
    assert [(e["actor"], e["command"], e["outcome"], e["origin"]) for e in trail] == [
        ("Léa", "acknowledge", "forbidden", "api token read"),
        ("Marie", "acknowledge", "done", "api token operate"),
    ]


@pytest.mark.slow
def test_an_engineers_mode_survives_a_restart_and_suppresses_then_unsuppresses(api: ApiServer) -> None:
    raise_probe_alarm(api)
    wait_until(lambda: alarm_status(api) == "unacknowledged", what="the alarm raised")
    enter = {"station": "sondes", "on": True, "user": "Paul", "reason": "étalonnage des sondes"}
    mode = f"{api.url}/modes/maintenance"
    assert httpx.post(mode, json=enter, headers=api.headers("operate")).status_code == 403
    entered = httpx.post(mode, json=enter, headers=api.headers("engineer"))
    assert entered.status_code == 200, entered.text
    assert [a["id"] for a in entered.json()["changed"]] == [ALARM]
    assert alarm_status(api) == "suppressed"
    typo = httpx.post(f"{api.url}/modes/maintenence", json=enter, headers=api.headers("engineer"))
    assert typo.status_code == 422 and "maintenance" in typo.json()["detail"]

    api.stop()  # the server restarts while the probes are in maintenance
    api.start(with_station=False)
    modes = httpx.get(f"{api.url}/modes", headers=api.headers("read")).json()
    assert [(m["mode"], m["station"], m["user"]) for m in modes] == [("maintenance", "sondes", "Paul")]
    assert alarm_status(api) == "suppressed"

    leave = {**enter, "on": False, "reason": "fin de vidange"}
    left = httpx.post(mode, json=leave, headers=api.headers("engineer"))
    assert left.status_code == 200 and left.json()["modes"] == []
    assert alarm_status(api) == "unacknowledged"  # still above its limit: annunciated again
    since = (utcnow() - timedelta(hours=1)).isoformat()
    trail = operator_commands(api, since)
    assert [(e["actor"], e["command"], e["outcome"]) for e in trail] == [
        ("Paul", "enter_mode", "forbidden"),
        ("Paul", "enter_mode", "done: 1 alarm(s)"),
        ("Paul", "enter_mode", "refused: unknown mode"),
        ("Paul", "leave_mode", "done: 1 alarm(s)"),
    ]


@pytest.mark.slow
def test_a_second_server_on_the_same_data_directory_refuses_to_start(api: ApiServer) -> None:
    command = [sys.executable, "-m", "core.cli", "server", "--config", str(api.config), "--data-dir",
               str(api.data)]  # fmt: skip
    second = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert second.returncode == 1
    assert "already supervises this site" in second.stderr and str(api.server.pid) in second.stderr
    assert "Traceback" not in second.stderr
    assert httpx.get(f"{api.url}/health").status_code == 200  # the first one is untouched


def add_user(api: ApiServer, name: str, role: str, password: str) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "core.cli", "user", "add", name, "--role", role, "--config", str(api.config),
         "--data-dir", str(api.data)],
        input=password + "\n", capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr


def sign_in(api: ApiServer, name: str, password: str) -> httpx.Response:
    return httpx.post(f"{api.url}/auth/login", json={"user": name, "password": password})


@pytest.mark.slow
def test_operators_sign_in_act_in_their_own_name_and_guessers_are_slowed(api: ApiServer) -> None:
    add_user(api, "Marie Dupont", "operator", "vanne-de-fond-50")
    add_user(api, "Léa", "viewer", "je-regarde-seulement")
    stored = (api.data / "var" / "tokens.db").read_bytes()
    assert b"$argon2id$" in stored and b"vanne-de-fond-50" not in stored

    raise_probe_alarm(api)
    wait_until(lambda: alarm_status(api) == "unacknowledged", what="the alarm raised")
    viewer = sign_in(api, "Léa", "je-regarde-seulement").json()["token"]
    ack = f"{api.url}/alarms/{ALARM}/ack"
    assert (
        httpx.post(ack, json={"user": "x"}, headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
    )

    session = sign_in(api, "Marie Dupont", "vanne-de-fond-50")
    assert session.status_code == 200 and session.json()["role"] == "operator"
    bearer = {"Authorization": f"Bearer {session.json()['token']}"}
    me = httpx.get(f"{api.url}/auth/me", headers=bearer).json()
    assert me["user"] == "Marie Dupont" and me["role"] == "operator"
    # the journal gets the authenticated name, not what the body claims
    done = httpx.post(ack, json={"user": "quelqu'un d'autre", "comment": "vu"}, headers=bearer)
    assert done.status_code == 200
    alarms = httpx.get(f"{api.url}/alarms", headers=api.headers("read")).json()
    assert next(a for a in alarms if a["id"] == ALARM)["acknowledged_by"] == "Marie Dupont"

    for _ in range(5):
        assert sign_in(api, "Marie Dupont", "mauvais-mot-de-passe").status_code == 401
    locked = sign_in(api, "Marie Dupont", "vanne-de-fond-50")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0

    disabled = subprocess.run(
        [sys.executable, "-m", "core.cli", "user", "disable", "Marie Dupont", "--config", str(api.config),
         "--data-dir", str(api.data)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert disabled.returncode == 0, disabled.stderr
    wait_until(lambda: httpx.get(f"{api.url}/auth/me", headers=bearer).status_code == 401,
             what="the disabled account's session ended")  # fmt: skip
    trail = httpx.get(f"{api.url}/audit", headers=api.headers("admin")).json()
    commands = [(e["command"], e["target"], e["outcome"]) for e in trail]
    assert ("user add", "Marie Dupont", "done") in commands and (
        "user disable",
        "Marie Dupont",
        "done",
    ) in commands
    assert ("sign in", "Marie Dupont", "refused: wrong name or password") in commands


def test_a_stranger_guessing_from_many_addresses_does_not_lock_the_user_out(tmp_path: Path) -> None:
    """Behind the site's reverse proxy (trusted): guesses from forty addresses lock strangers
    out of Marie's account, not Marie at her usual desk; a client that is not the proxy cannot
    forge its address with X-Forwarded-For."""
    site = MAINTENANCE_SITE.replace("api: {", "api: {trusted_proxies: [127.0.0.1], ")
    api = ApiServer(tmp_path, site=site)
    api.start(with_station=False)
    try:
        add_user(api, "Marie Dupont", "operator", "vanne-de-fond-50")

        def from_(address: str, password: str) -> httpx.Response:
            return httpx.post(f"{api.url}/auth/login", json={"user": "Marie Dupont", "password": password},
                              headers={"X-Forwarded-For": address})  # fmt: skip

        assert from_("198.51.100.7", "vanne-de-fond-50").status_code == 200  # her desk
        refused = [from_(f"203.0.113.{n // 5}", "mauvais").status_code for n in range(100)]
        assert refused.count(401) >= 20 and set(refused) <= {401, 429}
        assert from_("203.0.113.200", "vanne-de-fond-50").status_code == 429  # a new place waits
        assert from_("198.51.100.7", "vanne-de-fond-50").status_code == 200  # Marie does not
        origins = {e["origin"] for e in httpx.get(f"{api.url}/audit", headers=api.headers("admin")).json()}
        assert {"ip:198.51.100.7", "ip:203.0.113.0", "ip:203.0.113.19"} <= origins
    finally:
        api.stop()

    (tmp_path / "direct").mkdir()
    untrusted = ApiServer(tmp_path / "direct")  # no trusted proxy: the header is ignored
    untrusted.start(with_station=False)
    try:
        add_user(untrusted, "Marie Dupont", "operator", "vanne-de-fond-50")
        for n in range(10):
            forged = httpx.post(f"{untrusted.url}/auth/login", json={"user": f"agent{n}", "password": "x"},
                                headers={"X-Forwarded-For": f"203.0.113.{n}"})  # fmt: skip
            assert forged.status_code == 401
        trail = httpx.get(f"{untrusted.url}/audit", headers=untrusted.headers("admin")).json()
        assert {e["origin"] for e in trail if e["command"] == "sign in"} == {"ip:127.0.0.1"}
        assert sign_in(untrusted, "agent99", "x").status_code == 429  # one address, many names
    finally:
        untrusted.stop()


class StreamClient:
    """A client of GET /api/v1/events that keeps what it received and its last number."""

    def __init__(self, api: ApiServer) -> None:
        self.api = api
        self.epoch: str | None = None
        self.seq: int | None = None
        self.journal: list[dict[str, object]] = []
        self.seqs: list[int] = []
        self.snapshots = 0

    async def session(self, until: Callable[[], bool], what: str) -> None:
        """Connect (resuming if it can), take messages until ``until()`` holds, then drop."""
        from websockets.asyncio.client import connect

        query = f"?epoch={self.epoch}&since={self.seq}" if self.epoch else ""
        url = self.api.url.replace("http", "ws", 1) + "/events" + query
        deadline = time.monotonic() + 60
        async with connect(url, additional_headers=self.api.headers("read")) as socket:
            while not until():
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                message = json.loads(await asyncio.wait_for(socket.recv(), 60))
                if message["type"] == "hello":
                    self.epoch = message["epoch"]
                elif message["type"] == "snapshot":
                    self.snapshots += 1
                    self.seq = message["seq"]
                elif "seq" in message and message["type"] != "ping":
                    self.seqs.append(message["seq"])
                    self.seq = message["seq"]
                    if message["type"] == "alarm":
                        self.journal.append(message["event"])


def swing_probe(api: ApiServer, values: list[float]) -> None:
    """Post probe samples one by one: each crossing of 50 raises or returns its alarm."""
    base = utcnow()
    for i, value in enumerate(values):
        sample = {
            "tag": "sondes.probe",
            "ts": (base + timedelta(milliseconds=i)).isoformat(),
            "value": value,
        }
        posted = httpx.post(f"{api.url}/samples", json={"samples": [sample]}, headers=api.headers("ingest"))
        assert posted.status_code == 200, posted.text


def journal_of(api: ApiServer) -> list[tuple[object, ...]]:
    entries = httpx.get(f"{api.url}/alarms/journal", params={"limit": 10000}, headers=api.headers("read"))
    return [(e["ts"], e["alarm"], e["action"]) for e in entries.json()["entries"]]


@pytest.mark.slow
def test_a_stream_client_that_drops_during_a_flood_gets_every_journal_event_once_in_order(
    api: ApiServer,
) -> None:
    asyncio.run(_drop_and_resume(api))  # the client's own loop, closed at the end


async def _drop_and_resume(api: ApiServer) -> None:
    client = StreamClient(api)
    await client.session(lambda: client.epoch is not None and client.snapshots == 1, "the first snapshot")
    await asyncio.to_thread(swing_probe, api, [60.0, 40.0] * 5)  # ten transitions while connected
    await client.session(lambda: len(client.journal) >= 10, "the first transitions")
    # the client is away while the alarm keeps swinging (and an operator acknowledges it)
    await asyncio.to_thread(swing_probe, api, [60.0, 40.0] * 10 + [60.0])
    ack = await asyncio.to_thread(
        httpx.post, f"{api.url}/alarms/{ALARM}/ack", json={"user": "Marie"}, headers=api.headers("operate")
    )
    assert ack.status_code == 200
    await client.session(lambda: len(client.journal) >= 32, "the missed transitions")
    assert client.snapshots == 1, "the client was resent a snapshot instead of what it missed"
    assert client.seqs == sorted(set(client.seqs)), "duplicates or disorder in the stream"
    received = [(e["ts"], e["alarm"], e["action"]) for e in client.journal]
    assert received == sorted(journal_of(api))


# --- one server, two desktops as its clients, the simulator, Prism and aiosmtpd ------------------

CLIENT_SITE = """\
site: {name: Deux postes}
stations:
  - {id: lauragais, name: Ganguise, endpoint: "opc.tcp://127.0.0.1:@STATION_PORT@/ecreteur/lauragais",
      publishing_interval_ms: 200, reconnect_max_delay_s: 1}
tags:
  - {id: lauragais.level, station: lauragais, node: "ns=2;s=Level", unit: m, decimals: 2,
      label: {fr: Niveau, en: Level}}
  - {id: lauragais.battery, station: lauragais, node: "ns=2;s=Battery", unit: V, decimals: 1,
      label: {fr: Batterie, en: Battery}}
alarms:
  - {id: level, tags: lauragais.level, kind: limits, limits: {HH: {value: 0.5}}}
  - {id: battery, tags: lauragais.battery, kind: limits, limits: {LL: {value: 1000, priority: critical}},
      suppressed_in: [maintenance]}
api: {port: @API_PORT@}
"""
LEVEL, BATTERY = "level:lauragais.level:HH", "battery:lauragais.battery:LL"


def client_paging_yaml(twilio: RecordingProxy, smtp_port: int, ca: Path) -> str:
    """Level 1: the on-call team by SMS; level 2 (after 15 s): Bob by SMS and e-mail at once.
    One policy per alarm, so that each alarm is its own incident (a policy groups alarms)."""
    now = utcnow()
    first = {"targets": [{"oncall": "astreinte"}], "channels": ["sms"], "delay_min": 0.25}
    second = {"targets": [{"person": "bob"}], "channels": ["sms", "email"], "channel_step_min": 0,
              "delay_min": 30}  # fmt: skip
    sections: dict[str, Any] = {
        "roster": roster(now),
        "escalation": {"routes": [{"tags": "lauragais.level", "policy": "crue"},
                                  {"tags": "lauragais.battery", "policy": "energie"}],
                       "policies": [{"id": "crue", "levels": [first, second]},
                                    {"id": "energie", "levels": [first, second]}]},
    }  # fmt: skip
    smtp = {"host": "127.0.0.1", "port": smtp_port, "security": "starttls", "username": "ecreteur",
            "password": "!secret smtp_password", "sender": "ecreteur@eaux.example",
            "ca_file": str(ca)}  # fmt: skip
    return (
        "".join(f"{key}: {json.dumps(value, default=str)}\n" for key, value in sections.items())
        + "notify:\n"
        + f"  twilio: {{account_sid: {ACCOUNT_SID}, auth_token: !secret twilio_token, "
        + f'from_number: "+33500000000", public_url: "{PUBLIC_URL}", api_base: "{twilio.url}"}}\n'
        + "  smtp: "
        + json.dumps(smtp).replace('"!secret smtp_password"', "!secret smtp_password")
        + "\n"
    )


@dataclass
class Desktop:
    window: Any
    runtime: Any

    def status(self, alarm_id: str) -> str | None:
        return next((v.status.value for v in self.runtime.board.views() if v.id == alarm_id), None)

    def views(self) -> list[Any]:
        return self.runtime.board.views()


async def open_desktop(api: ApiServer, directory: Path, session: Any, qtbot: Any) -> Desktop:
    from PySide6.QtCore import QSettings

    from core.config import load_config
    from core.runtime import Runtime
    from hmi.style import DAY
    from hmi.window import MainWindow

    runtime = Runtime(load_config(api.config), config_path=api.config, data_dir=directory, session=session)
    await runtime.start()
    window = MainWindow(runtime, DAY, QSettings(str(directory / "hmi.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    return Desktop(window, runtime)


async def served_alarms(api: ApiServer) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{api.url}/alarms", headers=api.headers("read"))
    return list(answer.json())


def alarm_number(page: Sent) -> str:
    found = re.search(r"OK (\d+)", page.form["Body"])
    assert found, page.form["Body"]
    return found.group(1)


@pytest.mark.slow
@pytest.mark.paging
@pytest.mark.timeout(900)
@pytest.mark.usefixtures("credentials")
async def test_one_server_two_desktops_one_pager_one_truth(
    tmp_path: Path, twilio: RecordingProxy, qtbot: Any
) -> None:
    from core.client.session import sign_in as open_session
    from core.site.operations import Forbidden
    from hmi.signin import SignInDialog, on_server

    mailbox = Mailbox()
    smtp = smtp_server(mailbox, tmp_path, "ecreteur", "s3cret-smtp")
    api = ApiServer(tmp_path, site=CLIENT_SITE + client_paging_yaml(twilio, smtp.port, smtp.cert_path))
    desktops: list[Desktop] = []
    try:
        api.start()  # the server and the simulated station
        base = f"http://127.0.0.1:{api.api_port}"
        add_user(api, "Marie Dupont", "operator", "vanne-de-fond-50")
        add_user(api, "Léa", "viewer", "je-regarde-seulement")
        marie = await open_session(base, "Marie Dupont", "vanne-de-fond-50")
        dialog = SignInDialog(base, on_server(base), user="Léa")  # desktop 2 signs in through its dialog
        qtbot.addWidget(dialog)
        asked = asyncio.ensure_future(dialog.session())
        dialog.password.setText("pas-le-bon")
        dialog.submit()
        await eventually(lambda: "✖" in dialog.error.text(), what="a wrong password refused in the dialog")
        dialog.password.setText("je-regarde-seulement")
        dialog.submit()
        lea = await asyncio.wait_for(asked, 60)
        assert lea is not None and lea.user == "Léa" and lea.role.word == "viewer"
        desktops = [await open_desktop(api, tmp_path / name, s, qtbot)
                    for name, s in (("desk1", marie), ("desk2", lea))]  # fmt: skip
        one, two = desktops
        for desk in desktops:
            await eventually(lambda d=desk: d.runtime.board.authority.reachable, what="a desktop connected")
            assert desk.runtime.cascade is None  # a client never pages
        assert not two.window.alarms.ack_button.isEnabled()  # a viewer's buttons are disabled
        assert one.window.alarms.ack_button.isEnabled()

        # the crossing: one SMS per alarm at level 1, from the server alone
        first = await eventually(lambda: len(twilio.pages("sms")) >= 2 and twilio.pages("sms"), 120,
                                 what="the on-call team paged for both alarms")  # fmt: skip
        assert [p.form["To"] for p in first] == [ALICE, ALICE], [p.form["Body"] for p in first]
        numbers = {("Niveau" in p.form["Body"]): alarm_number(p) for p in first}
        for desk in desktops:
            await eventually(lambda d=desk: d.status(LEVEL) == d.status(BATTERY) == "unacknowledged", 60,
                             what="both alarms on both desktops")  # fmt: skip
            assert not any(v.local for v in desk.views())

        # a viewer is refused by the server too; Marie acknowledges on desktop 1
        with pytest.raises(Forbidden):
            await two.runtime.board.acknowledge(lea.actor(), LEVEL, "je ne peux pas")
        assert not await one.window.set_mode("maintenance", "lauragais", True, "essai")  # an engineer's
        assert "may not" in one.window.statusBar().currentMessage()
        clicked = time.perf_counter()
        assert await one.window.alarms.acknowledge([LEVEL], "vanne de fond ouverte") == 1
        await eventually(lambda: two.status(LEVEL) == "acknowledged", 30, what="desktop 2 sees the ack")
        _LOGGER.info(
            "acknowledged on desktop 1, shown on desktop 2 after %.3f s", time.perf_counter() - clicked
        )
        level = next(a for a in await served_alarms(api) if a["id"] == LEVEL)
        assert level["status"] == "acknowledged" and level["acknowledged_by"] == "Marie Dupont"
        assert next(v for v in two.views() if v.id == LEVEL).acknowledged_by == "Marie Dupont"
        # desktop 2's journal and history are the server's (it never acknowledged anything itself)
        now = utcnow()
        journal = await two.runtime.board.journal(now - timedelta(hours=1), now + timedelta(seconds=1), 100)
        assert ("acknowledged", "Marie Dupont", "vanne de fond ouverte") in [(e.action, e.user, e.comment)
                                                                             for e in journal]  # fmt: skip
        history = await two.runtime.board.downsampled("lauragais.level", now - timedelta(hours=1), now, 50)
        assert history and all(b.max > 0.5 for b in history)

        # the battery alarm, not acknowledged, goes to level 2: one SMS and one e-mail to Bob
        await eventually(lambda: [p for p in twilio.pages("sms") if p.form["To"] == BOB], 120,
                         what="level 2 for the battery alarm")  # fmt: skip
        await eventually(lambda: mailbox.messages, 60, what="Bob's e-mail")
        to_bob = [p for p in twilio.pages("sms") if p.form["To"] == BOB]
        assert [alarm_number(p) for p in to_bob] == [numbers[False]]  # the acknowledged alarm stopped
        assert [str(m["To"]) for m in mailbox.messages] == ["bob@eaux.example"]

        # Bob answers the SMS: both desktops show it
        path = "/api/v1/twilio/sms"
        reply = {"From": BOB, "To": "+33500000000", "Body": f"OK {numbers[False]}",
                 "MessageSid": "SM" + "5" * 32}  # fmt: skip
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, reply)
        replied = time.perf_counter()
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{base}{path}", data=reply, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200, answer.text
        for desk in desktops:
            await eventually(lambda d=desk: d.status(BATTERY) == "acknowledged", 30, what="the SMS ack shown")
        _LOGGER.info("SMS reply posted, shown on both desktops after %.3f s", time.perf_counter() - replied)
        assert (
            next(a for a in await served_alarms(api) if a["id"] == BATTERY)["acknowledged_by"] == "Bob Durand"
        )

        # the server is killed: both desktops say so, keep annunciating their own alarms, page nobody
        api.server.kill()
        api.server.wait()
        api.processes.remove(api.server)
        sent_before = len(twilio.pages())
        for desk in desktops:
            await eventually(lambda d=desk: not d.window.authority_banner.isHidden(), 5,
                             what="the server-lost banner within 5 s")  # fmt: skip
            local = desk.views()
            assert local and all(v.local for v in local)
            assert {v.id for v in local} >= {LEVEL, BATTERY}
            assert "[local]" in desk.window.banner.message.text()
            assert desk.window.banner.horn.sounding  # this desktop's own evaluation, unacknowledged here
        refused = await one.window.alarms.acknowledge([BATTERY], "pendant la coupure")
        assert refused == 0 and "cannot be reached" in one.window.alarms.notice.text()
        assert len(twilio.pages()) == sent_before  # the desktops have no pager to fall back on

        # the server comes back: both desktops show its state again, nothing was paged meanwhile
        api.start(with_station=False)
        for desk in desktops:
            await eventually(lambda d=desk: d.runtime.board.authority.reachable, 120, what="reconnected")
            await eventually(lambda d=desk: d.window.authority_banner.isHidden(), 5, what="banner gone")
            assert not any(v.local for v in desk.views())
            assert desk.status(LEVEL) == "acknowledged" and desk.status(BATTERY) == "acknowledged"
        assert twilio.invalid() == []
    finally:
        for desk in desktops:
            desk.window.close()
            await desk.runtime.stop()
        api.stop()
        smtp.stop()
