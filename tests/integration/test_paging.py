"""The notification cascade against real peers, in virtual time.

Twilio is Prism serving Twilio's own OpenAPI contract (every request validated, see the
``twilio`` fixture); e-mail is a real SMTP server (aiosmtpd) on loopback. Escalation delays
run on the loop's virtual clock (looptime): fifteen minutes take milliseconds.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.config import load_config
from core.config.base import SecretRef
from core.model import Sample
from core.notify import gsm
from core.notify.store import ACKED, CLEARED, FAILED, SENT, SKIPPED
from core.sim.flood import FloodModel
from core.sim.scenario import load_dams, load_scenario
from tests.conftest import REPO
from tests.integration.paging_bench import ALICE, BOB, paging_site, start_bench, two_levels
from tests.integration.paging_peers import Blackhole, Mailbox, RecordingProxy, smtp_server

pytestmark = [pytest.mark.looptime, pytest.mark.paging, pytest.mark.usefixtures("credentials")]


def minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 2)


async def test_flood_pages_by_sms_then_voice_then_level_two_until_an_sms_reply_acknowledges(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    demo = load_config(REPO / "resources" / "sites" / "demo.yaml")
    config = paging_site(twilio, two_levels(["sms", "voice"], ["sms", "voice"]), base=demo)
    bench = await start_bench(config, tmp_path)
    dam, scenario = load_dams().dams[0], load_scenario("flood-100y")
    model = FloodModel(dam.parameters(), scenario.initial_level_m)
    replied = None
    for minute in range(12 * 60):  # one sample a virtual minute
        model.advance(60, scenario.rain_at(minute / 60) * dam.rain_factor)
        now, state = bench.engine.clock.now(), model.state
        values = {"inflow": state.inflow, "rain": state.rain_mm_h, "gate": 100.0, "level": model.level}
        bench.engine.on_samples([Sample(f"lauragais.{role}", now, value) for role, value in values.items()])
        await asyncio.sleep(60)
        incident = bench.cascade.store.incident(1)
        if (
            incident
            and replied is None
            and bench.engine.clock.now() - incident.opened_at >= timedelta(minutes=18)
        ):
            replied = await bench.sms_reply(BOB, "ok 1")
        if replied is not None and minute > 6 * 60:
            break
    assert replied is not None and replied.status_code == 200
    assert "Alarm 1 acknowledged" in replied.text

    incident = bench.cascade.store.incident(1)
    assert incident is not None and incident.state in (ACKED, CLEARED) and incident.acked_by == "Bob Durand"
    sent = [(d.person, d.channel, d.kind, minutes(d.created_at - incident.opened_at))
            for d in bench.deliveries() if d.incident == 1]  # fmt: skip
    assert sent[:4] == [
        ("alice", "sms", "page", 0.0),
        ("alice", "voice", "page", 5.0),
        ("bob", "sms", "page", 15.0),
        ("alice", "sms", "ack", 18.0),  # told who acknowledged; Bob, who did, is not
    ]
    assert ("bob", "voice", "page") not in [s[:3] for s in sent]  # acknowledged before his call was due

    pages = twilio.pages()
    assert [(p.kind, p.form["To"]) for p in pages[:4]] == [("sms", ALICE), ("voice", ALICE), ("sms", BOB),
                                                            ("sms", ALICE)]  # fmt: skip
    first = pages[0].form["Body"]
    # the dam, the level with its unit, the trend and the crest to come, in two GSM-7 segments
    assert first.startswith("[1] CRITIQUE Barrage de la Ganguise - Niveau de la retenue très haut : 13,5")
    assert re.search(r"tendance \+\d,\d\d m/h, crete prévue 13,\d\d m vers \d\d:\d\d", first), first
    assert "Répondez OK 1 pour acquitter." in first and gsm.segments(first) <= 2
    assert pages[0].form["StatusCallback"].startswith("https://scada.example.test/api/v1/twilio/status?d=1")
    twiml = pages[1].form["Twiml"]
    assert '<Gather action="https://scada.example.test/api/v1/twilio/voice?d=' in twiml
    assert 'language="fr-FR"' in twiml and "appuyez sur 1" in twiml
    assert (
        pages[2]
        .form["Body"]
        .startswith("[1] CRITICAL Barrage de la Ganguise - Reservoir level very high: 13.5")
    )
    assert "acquittée par Bob Durand" in pages[3].form["Body"]

    crest = bench.engine.alarms["level_lauragais:lauragais.level:HH"]
    assert crest.ack_user == "Bob Durand"
    events = await bench.journal.events(incident.opened_at, bench.engine.clock.now(), crest.id)
    assert any(
        e.action == "acknowledged" and e.user == "Bob Durand" and e.comment == "SMS OK 1" for e in events
    )
    await bench.stop()


@pytest.fixture
def hung_smtp() -> Iterator[Blackhole]:
    """Accepts the connection and never greets: the worst way for an SMTP server to fail."""
    hole = Blackhole()
    yield hole
    hole.close()


async def test_smtp_down_falls_back_to_sms_at_once_and_is_skipped_while_down(
    tmp_path: Path, twilio: RecordingProxy, hung_smtp: Blackhole
) -> None:
    hung = hung_smtp
    smtp = {"host": "127.0.0.1", "port": hung.port, "security": "none", "sender": "ecreteur@eaux.example",
            "timeout_s": 1}  # fmt: skip
    config = paging_site(twilio, two_levels(["email", "sms"], ["sms"]), smtp=smtp, group_window_s=0)
    bench = await start_bench(config, tmp_path)
    bench.level(4.5)  # HH: incident 1
    await bench.settled()
    bench.level(3.0)
    await asyncio.sleep(120)
    bench.level(4.6)  # HH again: incident 2, while SMTP is still marked down
    await bench.settled()

    pages = bench.deliveries("page")
    first, second = ([(d.channel, d.state, d.created_at) for d in pages if d.incident == i] for i in (1, 2))
    assert [(c, s) for c, s, _ in first] == [("email", FAILED), ("sms", SENT)]
    assert [(c, s) for c, s, _ in second] == [("email", SKIPPED), ("sms", SENT)]
    # the SMS went out as soon as the e-mail failed, not after the five-minute channel step
    assert first[1][2] - first[0][2] < timedelta(seconds=5)
    assert second[1][2] == second[0][2]  # no second wait for the dead server
    # what the on-call page and GET /api/v1/oncall show: e-mail skipped until its retry, SMS fine
    until = bench.cascade.outbox.channel_down("email")
    assert until is not None and until > bench.engine.clock.now()
    assert bench.cascade.outbox.channel_down("sms") is None
    attempts = bench.cascade.store.attempts("2:page:0:0:alice:email")
    assert [outcome for _, _, outcome, _ in attempts] == [SKIPPED]
    assert "unreachable" in bench.cascade.store.delivery("1:page:0:0:alice:email").detail  # type: ignore[union-attr]
    assert [p.form["Body"][:40] for p in twilio.pages("sms")] == [
        "[1] CRITIQUE Barrage de la Ganguise - Ni",
        "Écrêteur : alarme 1 revenue à la normale",
        "[2] CRITIQUE Barrage de la Ganguise - Ni",
    ]
    await bench.stop()


async def test_email_pages_over_starttls_with_auth_in_each_persons_language(tmp_path: Path) -> None:
    mailbox = Mailbox()
    server = smtp_server(mailbox, tmp_path, "ecreteur", "s3cret-smtp")
    smtp = {"host": "127.0.0.1", "port": server.port, "security": "starttls", "username": "ecreteur",
            "password": SecretRef("smtp_password"),
            "sender": "ecreteur@eaux.example", "ca_file": str(server.cert_path)}  # fmt: skip
    level = {"targets": [{"person": "alice"}, {"person": "bob"}], "channels": ["email"], "delay_min": 30}
    policy = {"id": "crue", "levels": [level]}
    bench = await start_bench(paging_site(None, policy, smtp=smtp), tmp_path)
    bench.level(4.2)
    await bench.settled()
    assert {d.state for d in bench.deliveries()} == {SENT}
    assert mailbox.logins == ["ecreteur", "ecreteur"]
    by_to = {str(m["To"]): m for m in mailbox.messages}
    french, english = by_to["alice@eaux.example"], by_to["bob@eaux.example"]
    assert french["Subject"] == "[Écrêteur] CRITIQUE — Barrage de la Ganguise — alarme 1"
    assert english["Subject"] == "[Écrêteur] CRITICAL — Barrage de la Ganguise — alarm 1"
    body = french.get_content()
    assert "Niveau très haut : 4,20 m (seuil 4,00 m)" in body and "par SMS (OK 1)" in body
    assert "Level very high: 4.20 m (limit 4.00 m)" in english.get_content()
    bench.engine.acknowledge("level:lauragais.level:HH", "Opératrice PC crue", "vu")
    await bench.settled()
    notices = [
        m for m in mailbox.messages if "acquittée" in str(m["Subject"]) or "acknowledged" in str(m["Subject"])
    ]
    assert sorted(str(m["Subject"]) for m in notices) == [
        "[Écrêteur] Alarm 1 acknowledged by Opératrice PC crue",
        "[Écrêteur] Alarme 1 acquittée par Opératrice PC crue",
    ]
    await bench.stop()
    server.stop()


def test_an_email_over_starttls_leaves_no_socket_behind(tmp_path: Path) -> None:
    """Closing a TLS connection takes a close_notify exchange: the channel's loop stopped before
    it ended, and a socket and its transport were left to the garbage collector (the "leaked
    loop" warnings that CI met at the next test's setup)."""
    import gc
    import warnings

    from core.config.notify import Smtp
    from core.notify.channels import Outbound
    from core.notify.email import EmailChannel

    mailbox = Mailbox()
    server = smtp_server(mailbox, tmp_path, "ecreteur", "s3cret-smtp")
    smtp = Smtp(host="127.0.0.1", port=server.port, security="starttls", username="ecreteur",
                sender="ecreteur@eaux.example", ca_file=str(server.cert_path))  # fmt: skip
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            for n in range(3):
                channel = EmailChannel(smtp, "s3cret-smtp")
                channel.deliver(Outbound(f"k{n}", "alice@eaux.example", "fr", "sujet", "texte"))
                channel.close()
                del channel
                gc.collect()
        assert len(mailbox.messages) == 3
        assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    finally:
        server.stop()


async def test_a_relative_ca_file_works_for_a_server_started_from_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under systemd the working directory is ``/``: the CA bundle named relative to the site
    file is still the one ``check-config`` found, and the e-mail goes out over STARTTLS."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import TaggedScalar

    etc = tmp_path / "etc"
    etc.mkdir()
    mailbox = Mailbox()
    server = smtp_server(mailbox, etc, "ecreteur", "s3cret-smtp")
    level = {"targets": [{"person": "alice"}], "channels": ["email"], "delay_min": 30}
    site = paging_site(None, {"id": "crue", "levels": [level]}).model_dump(mode="json", exclude={"notify"})
    secret = TaggedScalar("smtp_password", tag="!secret")
    smtp = {"host": "127.0.0.1", "port": server.port, "security": "starttls", "username": "ecreteur",
            "password": secret, "sender": "ecreteur@eaux.example",
            "ca_file": server.cert_path.name}  # fmt: skip
    site["notify"] = {"smtp": smtp}
    YAML().dump(site, etc / "site.yaml")
    monkeypatch.chdir("/")
    config = load_config(etc / "site.yaml")
    bench = await start_bench(config, tmp_path)
    bench.level(4.2)
    await bench.settled()
    assert [d.state for d in bench.deliveries()] == [SENT]
    assert [str(m["To"]) for m in mailbox.messages] == ["alice@eaux.example"]
    await bench.stop()
    server.stop()


async def test_twilio_429_and_500_are_retried_with_backoff_then_sent(
    tmp_path: Path, twilio_with_errors: RecordingProxy
) -> None:
    twilio = twilio_with_errors
    twilio.prefer.extend([429, 500])
    bench = await start_bench(paging_site(twilio, two_levels(["sms"], ["sms"]), retry_base_s=2), tmp_path)
    started = bench.engine.clock.now()
    bench.level(4.5)
    await asyncio.sleep(30)
    assert [p.status for p in twilio.pages()] == [429, 500, 201]
    delivery = bench.deliveries("page")[0]
    assert (delivery.state, delivery.attempts) == (SENT, 3)
    journal = bench.cascade.store.attempts(delivery.key)
    assert [outcome for _, _, outcome, _ in journal] == ["retry", "retry", SENT]
    assert "Twilio 429" in journal[0][3] and "Twilio 500" in journal[1][3]
    assert minutes(journal[-1][1] - started) == pytest.approx(0.1, abs=0.01)  # 2 s + 4 s of backoff
    await bench.stop()


async def test_a_failed_delivery_status_moves_on_to_the_next_channel_at_once(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    bench = await start_bench(paging_site(twilio, two_levels(["sms", "voice"], ["sms"])), tmp_path)
    bench.level(4.5)
    await asyncio.sleep(60)
    assert [p.kind for p in twilio.pages()] == ["sms"]
    answer = await bench.status("1:page:0:0:alice:sms", "undelivered")
    assert answer.status_code == 204
    await bench.settled()
    assert [p.kind for p in twilio.pages()] == ["sms", "voice"]  # four minutes before its step
    voice = bench.cascade.store.delivery("1:page:0:0:alice:voice")
    sms = bench.cascade.store.delivery("1:page:0:0:alice:sms")
    assert voice is not None and sms is not None and sms.state == FAILED
    assert voice.created_at == sms.updated_at
    await bench.stop()


async def test_webhooks_need_a_valid_signature_and_act_once_on_twilio_retries(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    bench = await start_bench(paging_site(twilio, two_levels(["sms", "voice"], ["sms"])), tmp_path)
    bench.level(4.5)
    await bench.settled()
    forged = await bench.sms_reply(ALICE, "OK 1", signature="bm90IGEgc2lnbmF0dXJl")
    unsigned = await bench.sms_reply(ALICE, "OK 1", signature="")
    assert (forged.status_code, unsigned.status_code) == (403, 403)
    assert forged.json() == {"detail": "invalid or missing X-Twilio-Signature"}
    assert bench.cascade.store.incident(1).state == "open"  # type: ignore[union-attr]

    first = await bench.status("1:page:0:0:alice:sms", "failed", token="retry-1")
    again = await bench.status("1:page:0:0:alice:sms", "failed", token="retry-1")
    assert (first.status_code, again.status_code) == (204, 204)
    await bench.settled()
    assert [p.kind for p in twilio.pages()] == ["sms", "voice"]  # one voice call, not two
    journal = bench.cascade.store.attempts("1:page:0:0:alice:sms")
    assert [outcome for _, _, outcome, _ in journal] == [SENT, FAILED]

    unknown = await bench.sms_reply("+33699999999", "OK 1")
    assert "Numéro inconnu" in unknown.text
    await bench.stop()


async def test_key_1_in_the_call_acknowledges_and_the_clear_is_announced(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    bench = await start_bench(paging_site(twilio, two_levels(["voice"], ["sms"])), tmp_path)
    bench.level(4.5)
    await asyncio.sleep(60)
    wrong = await bench.keypress("1:page:0:0:alice:voice", "7")
    assert "non acquittée" in wrong.text and bench.cascade.store.incident(1).state == "open"  # type: ignore[union-attr]
    answer = await bench.keypress("1:page:0:0:alice:voice", "1")
    assert answer.headers["content-type"].startswith("application/xml")
    assert '<Say language="fr-FR">Alarme acquittée. Merci.</Say>' in answer.text
    assert bench.engine.alarms["level:lauragais.level:HH"].ack_user == "Alice Martin"
    bench.level(3.0)
    await asyncio.sleep(60)
    incident = bench.cascade.store.incident(1)
    assert incident is not None and incident.state == CLEARED
    assert [(d.person, d.channel, d.kind) for d in bench.deliveries()] == [
        ("alice", "voice", "page"),
        ("alice", "sms", "clear"),
    ]
    assert "revenue à la normale" in twilio.pages()[-1].form["Body"]
    await asyncio.sleep(3600)  # nothing more: no level 2, no repeat
    assert len(twilio.pages()) == 2
    await bench.stop()


async def test_alarms_raised_together_make_one_page(tmp_path: Path, twilio: RecordingProxy) -> None:
    config = paging_site(twilio, two_levels(["sms"], ["sms"]), priorities=("critical", "high"))
    bench = await start_bench(config, tmp_path)
    bench.level(3.7)  # H (high): opens page 1
    await asyncio.sleep(20)
    bench.level(4.3)  # HH (critical) 20 s later: within the 60 s window, joins page 1
    await bench.settled()
    assert [a.alarm for a in bench.cascade.store.alarms(1)] == [
        "level:lauragais.level:H",
        "level:lauragais.level:HH",
    ]
    await asyncio.sleep(15 * 60)  # level 2 names both, the worst first
    await bench.settled()
    bodies = [p.form["Body"] for p in twilio.pages()]
    assert len(bodies) == 2 and bodies[0].startswith("[1] HAUTE")
    assert bodies[1].startswith(
        "[1] CRITICAL Barrage de la Ganguise - Level very high: 4.30 m (limit 4.00 m)"
    )
    assert "+1 more alarm(s)." in bodies[1]
    await bench.stop()


async def test_the_policy_repeats_then_gives_up_and_says_so(
    tmp_path: Path, twilio: RecordingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    bench = await start_bench(paging_site(twilio, two_levels(["sms"], ["sms"])), tmp_path)
    bench.level(4.5)
    for _ in range(4):
        await asyncio.sleep(15 * 60)
        await bench.settled()
    sent = [(d.cycle, d.level, d.person) for d in bench.deliveries("page")]
    assert sent == [(0, 0, "alice"), (0, 1, "bob"), (1, 0, "alice"), (1, 1, "bob")]  # repeat: 2
    assert bench.cascade.store.incident(1).state == "exhausted"  # type: ignore[union-attr]
    assert "incident 1: escalation exhausted, nobody acknowledged" in caplog.text
    await asyncio.sleep(3600)
    assert len(twilio.pages()) == 4
    await bench.stop()


async def test_the_demo_server_pages_its_on_call_team_by_email_into_its_own_mailbox(tmp_path: Path) -> None:
    """`ecreteur demo --web` shows the cascade end to end on a laptop: the demo's mailbox plays
    the site's mail server, and each page carries its incident link."""
    from core.api.server import incident_links
    from core.cli.common import DEMO_SITE
    from core.config.checks import notify_consistency
    from core.sim.demo import demo_paging
    from core.sim.mailbox import Mailbox

    mailbox = Mailbox(tmp_path / "demo-mail")
    config = demo_paging(load_config(DEMO_SITE), await mailbox.start())
    assert list(notify_consistency(config)) == []  # what check-config would say of it
    bench = await start_bench(config, tmp_path)
    bench.cascade.links = incident_links(config, tmp_path)
    bench.level(14.9)  # the Ganguise above its HH
    await bench.settled()
    pages = [d for d in bench.deliveries("page") if d.channel == "email"]
    assert pages and {d.state for d in pages} == {SENT}
    kept = sorted((tmp_path / "demo-mail").glob("*.eml"))
    assert len(kept) == len(pages)
    text = kept[0].read_text(encoding="utf-8")
    assert "Barrage de la Ganguise" in text and "http://127.0.0.1:8080/i/" in text
    await bench.stop()
    await mailbox.stop()


async def test_the_person_paged_who_cannot_take_it_pages_the_next_level_now_from_the_link(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    """Alice is paged at 03:00 but cannot go: from her link the second level is paged at once,
    not fifteen minutes later; past the last level there is nobody to hand over to."""
    policy = {**two_levels(["sms"], ["sms"]), "repeat": 1}
    bench = await start_bench(paging_site(twilio, policy), tmp_path)
    bench.level(4.5)
    await bench.settled()
    opened = bench.engine.clock.now()
    await asyncio.sleep(60)
    reply = bench.cascade.phone.escalate_by_link(1, "alice")
    assert (
        reply.acknowledged
        and reply.text == "Alarme 1 : le niveau suivant de l'escalade est alerté maintenant."
    )
    await bench.settled()
    pages = [(d.person, d.level, d.created_at - opened) for d in bench.deliveries("page")]
    assert [(person, level) for person, level, _ in pages] == [("alice", 0), ("bob", 1)]
    assert pages[1][2] < timedelta(minutes=2)  # at once, not at the level's time (15 min)
    assert bench.cascade.store.incident(1).state == "open"  # type: ignore[union-attr]  # still waiting
    last = bench.cascade.phone.escalate_by_link(1, "bob")  # Bob is the last level, in English
    assert not last.acknowledged and last.text.startswith("Alarm 1: nobody after this level")
    await bench.stop()
