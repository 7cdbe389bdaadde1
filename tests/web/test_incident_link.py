"""From the SMS to the page: the link in a recorded page opens its incident without a sign-in and
acknowledges it once; a second use, an expired link and an altered one are refused, and audited."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from core.model import utcnow
from core.notify.links import IncidentLinks
from tests.integration.api_server import ApiServer
from tests.integration.paging_bench import ALICE, BOB, roster
from tests.integration.paging_peers import ACCOUNT_SID, PUBLIC_URL, RecordingProxy, Sent
from tests.web.conftest import DESK, PHONE, WEB_SITE, add_user, axe_script, base, post_samples, sign_in
from tests.web.test_accessibility import serious

PROBE = "probe:lauragais.probe:H"


def paging_yaml(twilio: RecordingProxy) -> str:
    """Level 1: the on-call team (Alice this week) by SMS; level 2 much later."""
    policy = {"id": "sonde", "levels": [
        {"targets": [{"oncall": "astreinte"}], "channels": ["sms"], "delay_min": 30},
        {"targets": [{"person": "bob"}], "channels": ["sms"], "delay_min": 30}]}  # fmt: skip
    sections: dict[str, Any] = {
        "roster": roster(utcnow()),
        "escalation": {"routes": [{"tags": "lauragais.probe", "policy": "sonde"}], "policies": [policy]},
    }
    return (
        "".join(f"{key}: {json.dumps(value, default=str)}\n" for key, value in sections.items())
        + "notify:\n"
        + f"  twilio: {{account_sid: {ACCOUNT_SID}, auth_token: !secret twilio_token, "
        + f'from_number: "+33500000000", public_url: "{PUBLIC_URL}", api_base: "{twilio.url}"}}\n'
    )


@pytest.fixture
def paged(tmp_path: Path, twilio: RecordingProxy, credentials: Path) -> Iterator[ApiServer]:
    site = WEB_SITE.replace(
        "api: {port: @API_PORT@}",
        'api: {port: @API_PORT@, links: {public_url: "http://127.0.0.1:@API_PORT@", valid_min: 120}}',
    )
    server = ApiServer(tmp_path, site=site + paging_yaml(twilio))
    server.start(with_station=False)
    yield server
    server.stop()


def sms_to(twilio: RecordingProxy, phone: str, timeout: float = 60.0) -> Sent:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for sent in twilio.sent:
            if sent.path.endswith("/Messages.json") and sent.form.get("To") == phone:
                return sent
        time.sleep(0.05)
    raise AssertionError(f"no SMS to {phone}: {twilio.sent}")


def served(api: ApiServer, alarm: str) -> dict[str, Any]:
    answer = httpx.get(f"{api.url}/alarms", headers=api.headers("read"), timeout=30)
    return next((a for a in answer.json() if a["id"] == alarm), {})


@pytest.mark.web
@pytest.mark.paging
def test_the_link_in_the_sms_opens_the_incident_and_acknowledges_it_once(
    paged: ApiServer, twilio: RecordingProxy, context: BrowserContext
) -> None:
    now = datetime.now(UTC)
    post_samples(paged, *[("lauragais.probe", value, (now - timedelta(minutes=ago)).isoformat())
                          for value, ago in ((40.0, 60), (48.0, 30), (60.0, 0))])  # fmt: skip
    sms = sms_to(twilio, ALICE)
    found = re.search(r"(http://\S+/i/[A-Za-z0-9_-]+)", sms.form["Body"])
    assert found, sms.form["Body"]
    link = found.group(1)
    print(sms.form["Body"])
    assert len(link) - len(base(paged)) < 60  # short enough for an SMS

    page = context.new_page()  # a phone that never signed in
    page.goto(link)
    expect(page.locator("h1")).to_contain_text("ouvert")
    expect(page.get_by_text("Pour Alice Martin")).to_be_visible()
    # the probe's last hours against its H limit (50 m), in a glance
    trend = page.locator("svg.incident-trend")
    expect(trend).to_have_attribute("aria-label", re.compile(r"3 dernières heures : 40,00 → 60,00 m"))
    expect(trend.locator("line.limit.H")).to_have_count(1)
    page.get_by_role("button", name=re.compile("J'acquitte l'incident")).click()
    expect(page.locator("#result")).to_contain_text("acquittée")
    expect(page.locator("h1")).to_contain_text("acquitté")
    alarm = served(paged, PROBE)
    assert (alarm["status"], alarm["acknowledged_by"]) == ("acknowledged", "Alice Martin")

    token = link.rsplit("/", 1)[1]
    again = httpx.post(f"{paged.url}/links/{token}/ack", timeout=30)
    assert again.status_code == 410 and "already used" in again.json()["detail"]

    key_file = next(paged.data.rglob("links.key"))  # beside the tokens, readable by the server only
    assert key_file.stat().st_mode & 0o077 == 0
    key = key_file.read_bytes()
    expired = IncidentLinks(key, base(paged), timedelta(minutes=120)).token(
        1, "alice", utcnow() - timedelta(hours=3)
    )
    late = httpx.post(f"{paged.url}/links/{expired}/ack", timeout=30)
    assert late.status_code == 410 and "expired" in late.json()["detail"]
    page.goto(f"{base(paged)}/i/{expired}")
    expect(page.get_by_role("alert")).to_contain_text("expired")

    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert httpx.get(f"{paged.url}/links/{altered}", timeout=30).status_code == 410
    other = IncidentLinks(b"k" * 32, base(paged), timedelta(minutes=120)).token(1, "alice", utcnow())
    assert httpx.post(f"{paged.url}/links/{other}/ack", timeout=30).status_code == 410

    audit = httpx.get(f"{paged.url}/audit", headers=paged.headers("admin"), timeout=30).json()
    uses = [(e["actor"], e["outcome"]) for e in audit if e["command"] == "acknowledge incident"]
    assert uses[0] == ("Alice Martin", "done")
    assert ("Alice Martin", "refused: link already used") in uses
    assert any(outcome.startswith("refused: this link expired") for _, outcome in uses)
    assert sum(1 for _, outcome in uses if outcome == "refused: this link is not valid") >= 2


@pytest.mark.web
@pytest.mark.paging
def test_the_incident_and_on_call_pages_pass_axe_with_an_incident_paged(
    paged: ApiServer, twilio: RecordingProxy, browser: Browser
) -> None:
    add_user(paged, "alice", "operator")
    post_samples(paged, ("lauragais.probe", 60.0, datetime.now(UTC).isoformat()))
    found = re.search(r"(http://\S+/i/[A-Za-z0-9_-]+)", sms_to(twilio, ALICE).form["Body"])
    assert found
    for viewport in (PHONE, DESK):
        context = browser.new_context(**viewport, locale="fr-FR", bypass_csp=True)  # axe is injected
        try:
            page = context.new_page()
            page.goto(found.group(1))
            expect(page.get_by_role("button", name=re.compile("J'acquitte"))).to_be_visible()
            problems = {"/i/…": axe(page)}
            sign_in(page, paged, then="/oncall")
            expect(page.locator("[data-incident]")).to_have_count(1)
            expect(page.locator("[data-incident]")).to_contain_text("Alice Martin")  # who was paged
            # in words: the alarm's message, the delivery's fate, the level; no ids or provider SIDs
            shown = page.locator("[data-incident]")
            expect(shown).to_contain_text(re.compile(r"alerte · niveau d'escalade 1"))
            expect(shown).to_contain_text(re.compile(r"envoyé|reçu|en cours d'envoi"))
            text = shown.inner_text()
            assert PROBE not in text and not re.search(r"\bSM[0-9a-f]{32}\b", text), text
            assert "(seuil " in text, text  # the alarm as its message says it, in French
            problems["/oncall"] = axe(page)
            assert problems == {"/i/…": [], "/oncall": []}
        finally:
            context.close()


def axe(page: Page) -> list[str]:
    page.add_script_tag(path=str(axe_script()))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return serious(result["violations"])


@pytest.mark.web
@pytest.mark.paging
def test_on_a_phone_the_incident_page_says_what_is_happening_and_who_was_told(
    paged: ApiServer, twilio: RecordingProxy, browser: Browser
) -> None:
    """390×844: the acknowledge button in the first screen; the dam, the level now and who was
    paged (how, what became of it) by the end of the second."""
    post_samples(paged, ("lauragais.probe", 60.0, datetime.now(UTC).isoformat()))
    found = re.search(r"(http://\S+/i/[A-Za-z0-9_-]+)", sms_to(twilio, ALICE).form["Body"])
    assert found
    post_samples(paged, ("lauragais.probe", 61.25, datetime.now(UTC).isoformat()))  # still rising
    context = browser.new_context(**PHONE, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(found.group(1))
        button = page.get_by_role("button", name=re.compile("J'acquitte"))
        expect(button).to_be_visible()
        facts = page.locator(".facts").first
        expect(facts).to_contain_text("maintenant 61,25")  # the value now, beside the one that paged
        timeline = page.locator(".timeline li").first
        expect(timeline).to_contain_text(
            re.compile(r"Alice Martin · SMS · alerte · (envoyé|reçu|en cours d'envoi)")
        )
        height = PHONE["viewport"]["height"]
        assert button.bounding_box()["y"] + button.bounding_box()["height"] <= height  # type: ignore[index]
        for shown in (page.locator(".alarmlist .msg").first, facts, timeline):
            box = shown.bounding_box()
            assert box is not None and box["y"] + box["height"] <= 2 * height, box
    finally:
        context.close()


@pytest.mark.web
@pytest.mark.paging
def test_from_the_link_the_person_who_cannot_take_it_pages_the_next_level_now(
    paged: ApiServer, twilio: RecordingProxy, browser: Browser
) -> None:
    """The page says what comes next if nobody answers (level 2, Bob, at its time) and links to
    the dam; "I cannot take it" pages Bob at once, once per link, and is audited."""
    post_samples(paged, ("lauragais.probe", 60.0, datetime.now(UTC).isoformat()))
    found = re.search(r"(http://\S+/i/[A-Za-z0-9_-]+)", sms_to(twilio, ALICE).form["Body"])
    assert found
    context = browser.new_context(**PHONE, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(found.group(1))
        expect(page.locator(".next-step")).to_contain_text(
            re.compile(r"Prochaine étape : niveau 2 à \d\d:\d\d \(Bob")
        )
        expect(page.get_by_role("link", name=re.compile("Voir le barrage"))).to_have_attribute(
            "href", "/dams/lauragais"
        )
        page.get_by_role("button", name=re.compile("Je ne peux pas")).click()
        expect(page.locator("#result")).to_have_text(
            "Alarme 1 : le niveau suivant de l'escalade est alerté maintenant."
        )
        sms_to(twilio, BOB)  # paged now, not in thirty minutes
        expect(
            page.get_by_role("button", name=re.compile("J'acquitte"))
        ).to_be_visible()  # still hers to take
        again = httpx.post(f"{found.group(1).replace('/i/', '/api/v1/links/')}/escalate", timeout=30)
        assert again.status_code == 410  # once per link
    finally:
        context.close()
    trail = httpx.get(f"{paged.url}/audit", headers=paged.headers("admin"), timeout=30).json()
    asked = [(e["actor"], e["outcome"]) for e in trail if e["command"] == "escalate incident"]
    assert asked == [
        ("Alice Martin", "done"),
        ("Alice Martin", "refused: link already used to page the next level"),
    ]
