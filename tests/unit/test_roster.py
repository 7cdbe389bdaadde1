"""Who is on call: weekly rotations at local wall-clock handoffs, across DST changes, with overrides."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.config import ConfigError, load_config
from core.config.notify import Roster, Target
from core.notify.roster import OnCall

REPO = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")

ROSTER = Roster.model_validate(
    {
        "timezone": "Europe/Paris",
        "people": [
            {"id": "alice", "name": "Alice", "phone": "+33611111111"},
            {"id": "carol", "name": "Carol", "phone": "+33633333333"},
            {"id": "dan", "name": "Dan", "phone": "+33644444444", "language": "en"},
        ],
        "teams": [
            {
                "id": "astreinte",
                "name": "Astreinte",
                "members": ["alice", "carol"],
                "rotation_start": "2026-03-23",  # a Monday
                "handoff": {"day": "monday", "time": "08:00"},
                "overrides": [
                    {
                        "person": "dan",
                        "start": "2026-12-24T18:00",
                        "end": "2026-12-26T08:00",
                        "reason": "Noël",
                    }
                ],
            }
        ],
    }
)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def test_weekly_rotation_hands_over_at_local_time() -> None:
    oncall = OnCall(ROSTER)
    assert oncall.shift("astreinte", paris(2026, 3, 23, 8, 0)).person.id == "alice"
    assert oncall.shift("astreinte", paris(2026, 3, 23, 7, 59)).person.id == "carol"  # the week before
    assert oncall.shift("astreinte", paris(2026, 4, 6, 9, 0)).person.id == "alice"  # two weeks on


def test_the_week_of_the_spring_change_is_167_hours_and_ends_at_08_00_local() -> None:
    shift = OnCall(ROSTER).shift("astreinte", paris(2026, 3, 25, 12, 0))  # DST starts Sunday 29 March
    assert shift.person.id == "alice"
    assert shift.end == paris(2026, 3, 30, 8, 0)  # 06:00 UTC: CEST by then
    assert shift.end.astimezone(PARIS).utcoffset() == timedelta(hours=2)
    assert shift.end - shift.start == timedelta(hours=167)
    just_before = datetime(2026, 3, 30, 5, 59, tzinfo=UTC)  # 07:59 CEST
    assert OnCall(ROSTER).shift("astreinte", just_before).person.id == "alice"
    assert OnCall(ROSTER).shift("astreinte", just_before + timedelta(minutes=1)).person.id == "carol"


def test_the_week_of_the_autumn_change_is_169_hours() -> None:
    shift = OnCall(ROSTER).shift("astreinte", paris(2026, 10, 21, 12, 0))  # DST ends Sunday 25 October
    assert shift.start == paris(2026, 10, 19, 8, 0) and shift.end == paris(2026, 10, 26, 8, 0)
    assert shift.end - shift.start == timedelta(hours=169)


def test_an_override_replaces_the_rotation_and_cuts_its_shift_short() -> None:
    oncall = OnCall(ROSTER)
    christmas = oncall.shift("astreinte", paris(2026, 12, 25, 3, 0))
    assert (christmas.person.id, christmas.reason) == ("dan", "Noël")
    assert christmas.end == paris(2026, 12, 26, 8, 0)
    before = oncall.shift("astreinte", paris(2026, 12, 24, 10, 0))
    assert before.person.id != "dan" and before.end == paris(2026, 12, 24, 18, 0)
    assert oncall.next_shift("astreinte", paris(2026, 12, 24, 10, 0)).person.id == "dan"
    after = oncall.shift("astreinte", paris(2026, 12, 26, 8, 0))
    assert after.person.id == before.person.id  # back to the rotation's week


def test_targets_resolve_to_people() -> None:
    oncall = OnCall(ROSTER)
    at = paris(2026, 3, 24, 12, 0)
    assert [p.id for p in oncall.resolve(Target(oncall="astreinte"), at)] == ["alice"]
    assert [p.id for p in oncall.resolve(Target(team="astreinte"), at)] == ["alice", "carol"]
    assert [p.id for p in oncall.resolve(Target(person="dan"), at)] == ["dan"]
    assert oncall.person_by_phone("+33644444444").id == "dan"  # type: ignore[union-attr]


BASE = (REPO / "resources" / "sites" / "demo.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("members: [amelie, bastien, chloe]", "members: [amelie, zoe]"),
            "roster.teams[0].members[1]: unknown person 'zoe'",
        ),
        (
            ("timezone: Europe/Paris\n  people", "timezone: Europe/Pariss\n  people"),
            "unknown time zone 'Europe/Pariss'",
        ),
        (
            ('handoff: {day: monday, time: "08:00"}', 'handoff: {day: monday, time: "8h"}'),
            "roster.teams[0].handoff.time",
        ),
        (("end: 2026-12-26T08:00", "end: 2026-12-24T08:00"), "`end` must be after `start`"),
    ],
)
def test_roster_mistakes_are_located(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert change[0] in BASE
    path = tmp_path / "site.yaml"
    path.write_text(BASE.replace(change[0], change[1]), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value)
    assert f"{path}:" in str(err.value)


def paging_doc_sections() -> str:
    text = (REPO / "docs" / "PAGING.md").read_text(encoding="utf-8")
    return text.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_documented_paging_example_is_a_valid_config(tmp_path: Path) -> None:
    site = BASE.split("\nroster:", 1)[0] + "\n" + paging_doc_sections()
    path = tmp_path / "site.yaml"
    path.write_text(site, encoding="utf-8")
    config = load_config(path)
    assert config.escalation is not None and config.notify.twilio is not None
    assert str(config.notify.twilio.auth_token) == "!secret twilio_token"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("channels: [sms, voice]\n", "channels: [sms, pigeon]\n"), "levels[0].channels[1]"),
        (("{oncall: astreinte}", "{oncall: plongeurs}"), "unknown team 'plongeurs'"),
        (("policy: crue}", "policy: cure}"), "escalation.routes[0].policy: unknown policy 'cure'"),
        (("auth_token: !secret twilio_token", "auth_token: hunter2"), "plain-text secrets are refused"),
        (("  twilio:\n", "  twilio_off:\n"), "channel 'sms' needs `notify.twilio`"),
    ],
)
def test_paging_mistakes_are_located(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    site = BASE.split("\nroster:", 1)[0] + "\n" + paging_doc_sections()
    assert change[0] in site
    if change[1].startswith("  twilio_off"):  # drop the whole twilio account
        site = site.split("  twilio:\n", 1)[0]
    else:
        site = site.replace(change[0], change[1])
    path = tmp_path / "site.yaml"
    path.write_text(site, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value)


def test_oncall_command_shows_now_and_next() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "oncall", "--config", "resources/sites/demo.yaml", "--at",
         "2026-12-24T12:00"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Astreinte barrages [astreinte]"
    assert lines[1].startswith("  now:  ") and "until Thu 24/12 18:00 CET" in lines[1]
    assert lines[2] == "  next: Chloé Garnier +33600000003 from Thu 24/12 18:00 CET"


def test_secrets_come_from_systemd_credentials_first_then_the_keyring(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
           "XDG_DATA_HOME": str(tmp_path / "data")}  # fmt: skip
    stored = subprocess.run(
        [sys.executable, "-m", "core.cli", "secrets", "set", "twilio_token"],
        input="from-the-keyring\n", capture_output=True, text=True, cwd=REPO, env=env, check=False,
    )  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    code = "from core.config.secrets import resolve; from core.config import SecretRef as S; "
    code += "print(resolve(S('twilio_token')))"
    read = [sys.executable, "-c", code]
    assert (
        subprocess.run(read, capture_output=True, text=True, cwd=REPO, env=env).stdout == "from-the-keyring\n"
    )
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "twilio_token").write_text("from-systemd\n", encoding="utf-8")
    env["CREDENTIALS_DIRECTORY"] = str(credentials)
    assert subprocess.run(read, capture_output=True, text=True, cwd=REPO, env=env).stdout == "from-systemd\n"
