"""kill -9 of `ecreteur server` in the middle of an escalation: nothing lost, nothing sent twice.

The recording proxy in front of Prism lives in the test process, so it sees every request the
server sent before and after the kill.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.model import utcnow
from tests.conftest import wait_until
from tests.integration.api_server import SITE, ApiServer
from tests.integration.paging_bench import ALICE, BOB, roster
from tests.integration.paging_peers import ACCOUNT_SID, PUBLIC_URL, RecordingProxy, signed_sms_reply


def paging_yaml(twilio: RecordingProxy, levels: list[dict[str, Any]] | None = None) -> str:
    """The probe's paging: by default the on-call person's SMS, then Bob's 6 s later."""
    import json

    now = utcnow()
    level = {"channels": ["sms"], "channel_step_min": 1, "delay_min": 0.1}  # next level after 6 s
    levels = levels or [
        {**level, "targets": [{"oncall": "astreinte"}]},
        {**level, "targets": [{"person": "bob"}]},
    ]
    sections: dict[str, Any] = {
        "roster": roster(now),
        "escalation": {
            "routes": [{"tags": "sondes.probe", "policy": "sonde"}],
            "policies": [{"id": "sonde", "levels": levels}],
        },
    }  # fmt: skip
    twilio_yaml = (
        f"notify:\n  twilio: {{account_sid: {ACCOUNT_SID}, auth_token: !secret twilio_token, "
        f'from_number: "+33500000000", public_url: "{PUBLIC_URL}", api_base: "{twilio.url}"}}\n'
    )
    # JSON is YAML: the generated sections need no quoting care
    return (
        "".join(f"{key}: {json.dumps(value, default=str)}\n" for key, value in sections.items()) + twilio_yaml
    )


@pytest.mark.slow
@pytest.mark.paging
@pytest.mark.usefixtures("credentials")
def test_kill_9_mid_escalation_resumes_at_the_right_level_without_sending_twice(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    api = ApiServer(tmp_path, site=SITE + paging_yaml(twilio))
    api.start(with_station=False)
    try:
        posted_at = utcnow()
        sample = {"tag": "sondes.probe", "ts": utcnow().isoformat(), "value": 60.0}  # above H 50
        posted = httpx.post(f"{api.url}/samples", json={"samples": [sample]}, headers=api.headers("ingest"))
        assert posted.status_code == 200, posted.text
        wait_until(lambda: twilio.pages("sms"), "the first SMS")
        api.server.kill()  # SIGKILL: no flush, no goodbye
        api.server.wait()
        api.stop()

        api.start(with_station=False)
        bob_page = wait_until(lambda: [p for p in twilio.pages("sms") if p.form["To"] == BOB], "level 2")[0]
        alice_page = twilio.pages("sms")[0]
        assert alice_page.form["To"] == ALICE
        assert bob_page.at - posted_at >= timedelta(seconds=6)  # level 2 not before its time
        assert [p.form["To"] for p in twilio.pages()] == [ALICE, BOB]  # level 1 not sent again

        reply, signed = signed_sms_reply(BOB, "OK 1", "SM" + "4" * 32)
        answer = httpx.post(f"http://127.0.0.1:{api.api_port}/api/v1/twilio/sms", data=reply, headers=signed)
        assert answer.status_code == 200 and "Alarm 1 acknowledged" in answer.text
        wait_until(lambda: len(twilio.pages()) == 3, "Alice told who acknowledged")
        told = twilio.pages()[2]
        assert told.form["To"] == ALICE and "acquittée par Bob Durand" in told.form["Body"]

        alarms = httpx.get(f"{api.url}/alarms", headers=api.headers("read")).json()
        probe = next(a for a in alarms if a["tag"] == "sondes.probe")
        assert probe["status"] == "acknowledged"
    finally:
        api.stop()
