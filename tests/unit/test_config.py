"""The site config: valid files load, broken ones say file, line and field, and how to fix them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import ConfigError, SecretRef, load_config
from core.config.schema import SiteConfig

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "resources" / "sites" / "demo.yaml"

GOOD = """\
site:
  name: Test
stations:
  - id: alpha
    name: Alpha
    endpoint: opc.tcp://127.0.0.1:4840/
    user: operator
    password: !secret alpha_opcua
tags:
  - id: alpha.level
    station: alpha
    node: "ns=2;s=Level"
    unit: m
    range: [0, 20]
    label: {fr: Niveau, en: Level}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def issues(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    return [str(issue) for issue in err.value.issues]


def test_demo_site_describes_three_dams() -> None:
    config = load_config(DEMO)
    assert [s.id for s in config.stations] == ["lauragais", "cevennes", "corbieres"]
    assert all(config.tags_of(s.id) for s in config.stations)


def test_secret_references_are_kept_as_references(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.stations[0].password == SecretRef("alpha_opcua")


def test_plain_password_is_refused_with_the_fix(tmp_path: Path) -> None:
    found = issues(tmp_path, GOOD.replace("!secret alpha_opcua", "hunter2"))
    assert found == [
        f"{tmp_path / 'site.yaml'}:8: stations[0].password: plain-text secrets are refused: write "
        "`!secret NAME` and store the value with `ecreteur secrets set NAME`"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("unit: m", "unit: m\n    colour: red"), ":14: tags[0].colour: unknown field"),
        (
            ("    station: alpha\n", "    station: beta\n"),
            ":11: tags[0].station: unknown station 'beta' (known: alpha)",
        ),
        (("opc.tcp://127.0.0.1:4840/", "http://example"), ":6: stations[0].endpoint: expected an OPC-UA URL"),
        (
            ("range: [0, 20]", "range: [20, 0]"),
            ":14: tags[0].range: range minimum 20.0 is not below maximum 0.0",
        ),
        (("    label: {fr: Niveau, en: Level}\n", ""), ":10: tags[0].label: required field is missing"),
        (
            ("id: alpha.level", "id: Alpha Level"),
            ":10: tags[0].id: not the expected form: a tag id is its station's id, a dot",
        ),
        (('    node: "ns=2;s=Level"\n', ""), ":10: tags[0]: give exactly one of `node`"),
        (
            ("unit: m", "unit: m\n    states: {off: {fr: basse}, on: {fr: haute}}"),
            ":10: tags[0]: `states` names the two values of a discrete tag",
        ),
    ],
)
def test_each_mistake_is_located(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    found = issues(tmp_path, GOOD.replace(*change))
    assert any(expected in text for text in found), found
    assert all(text.startswith(str(tmp_path / "site.yaml")) for text in found)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    found = issues(tmp_path, GOOD.replace("  name: Test", "  name: [Test"))
    assert found == [f"{tmp_path / 'site.yaml'}:3: YAML syntax: expected ',' or ']', but got ':'"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("unit: m", "unit: m\n    colour: red").replace("name: Alpha", "nom: Alpha")
    assert len(issues(tmp_path, text)) == 3  # unknown `colour`, unknown `nom`, missing `name`


def test_check_config_cli_exits_non_zero_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    station: alpha\n", "    station: beta\n"))
    result = subprocess.run(
        [sys.executable, "-m", "core.cli", "check-config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert f"{path}:11: tags[0].station: unknown station 'beta'" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_cli_accepts_the_demo() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core.cli", "check-config", str(DEMO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "OK (3 stations, 33 tags)" in result.stdout


def test_json_schema_lists_the_sections_for_editors() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core.cli", "schema"], capture_output=True, text=True, check=True
    )
    schema = json.loads(result.stdout)
    assert set(schema["properties"]) >= {"site", "stations", "tags", "storage"}
    assert schema == json.loads(json.dumps(SiteConfig.model_json_schema()))


ALARMS = (
    GOOD
    + """\
alarms:
  - id: level_limits
    tags: "*.level"
    kind: limits
    limits:
      H: {value: 12.0}
      HH: {value: 14.0}
    on_delay_s: 10
"""
)


def test_alarm_rules_load(tmp_path: Path) -> None:
    rule = load_config(write(tmp_path, ALARMS)).alarms[0]
    assert rule.kind == "limits" and rule.limits["HH"].value == 14.0 and rule.on_delay_s == 10


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("H: {value: 12.0}", "H: {value: 15.0}"),
            ":22: alarms[0].limits.HH: HH (14.0) must be above H (15.0)",
        ),
        (('tags: "*.level"', 'tags: "*.debit"'), ":18: alarms[0].tags: '*.debit' matches no tag of the site"),
        (
            ("on_delay_s: 10", "on_delay_s: -5"),
            ":23: alarms[0].on_delay_s: Input should be greater than or equal to 0",
        ),
        (
            ("kind: limits", "kind: colour"),
            ":17: alarms[0]: unknown kind 'colour'; expected one of 'limits', 'rate'",
        ),
        (
            ("HH: {value: 14.0}", "HH: {value: high}"),
            ":22: alarms[0].limits.HH.value: Input should be a valid number",
        ),
    ],
)
def test_alarm_mistakes_are_located(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    found = issues(tmp_path, ALARMS.replace(*change))
    assert any(expected in text for text in found), found


# a one-person roster and a policy whose levels follow (each test writes its own)
ALICE_ON_CALL = """\
roster:
  people:
    - {id: alice, name: Alice, phone: "+33611111111"}
escalation:
  routes: [{tags: alpha.level, policy: crue}]
  policies:
    - id: crue
      levels:
"""


def test_a_channel_that_would_come_after_its_levels_delay_is_refused_where_it_is(tmp_path: Path) -> None:
    level = """\
        - targets: [{person: alice}]
          channels: [sms, voice]
          channel_step_min: 15
          delay_min: 15
"""
    found = issues(tmp_path, GOOD + ALICE_ON_CALL + level)
    assert any(
        "site.yaml:24: escalation.policies[0].levels[0]" in issue
        and "the last channel (voice) would come 15 min into the level" in issue
        for issue in found
    ), found


def test_a_file_that_is_not_utf8_is_refused_at_its_line_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_bytes(GOOD.replace("name: Test", "name: Barrage de Sainte-Cécile").encode("latin-1"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    (issue,) = err.value.issues
    assert issue.line == 2 and "not UTF-8 text: byte 0xe9" in issue.message


def test_an_alias_bomb_is_refused_instead_of_expanded(tmp_path: Path) -> None:
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        bomb += f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]\n"
    found = issues(tmp_path, GOOD + bomb)
    assert len(found) == 1 and "expands to more than 200,000 values" in found[0]


def test_an_unknown_time_zone_and_a_port_out_of_range_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("  name: Test\n", "  name: Test\n  timezone: Mars/Olympus\n").replace(
        "127.0.0.1:4840/", "127.0.0.1:99999/"
    )
    found = issues(tmp_path, text)
    assert any("site.yaml:3: site.timezone: unknown time zone 'Mars/Olympus'" in i for i in found), found
    assert any("stations[0].endpoint: port 99999 is not between 1 and 65535" in i for i in found), found


def test_a_pattern_error_gives_the_hint_of_its_own_pattern(tmp_path: Path) -> None:
    paging = """\
roster:
  people:
    - {id: alice, name: Alice, phone: "0612345678"}
"""
    (found,) = issues(tmp_path, GOOD + paging)
    assert "roster.people[0].phone: not the expected form: an international number in E.164 form" in found
    assert "lower-case" not in found


def test_certificate_files_must_exist_except_for_the_command_that_makes_them(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    password: !secret alpha_opcua\n",
        "    password: !secret alpha_opcua\n"
        "    security: {mode: SignAndEncrypt, certificate: pki/own/cert.der, private_key: pki/own/key.pem}\n",
    )
    found = issues(tmp_path, text)
    assert len(found) == 2 and all("no such file" in i and "ecreteur cert create" in i for i in found)
    assert load_config(tmp_path / "site.yaml", check_files=False).stations[0].security.certificate


def test_a_channel_that_reaches_nobody_of_its_level_is_refused(tmp_path: Path) -> None:
    level = """\
        - {targets: [{person: alice}], channels: [sms, email], channel_step_min: 1, delay_min: 15}
notify:
  smtp: {host: 127.0.0.1, sender: ecreteur@example.fr}
"""
    found = [i for i in issues(tmp_path, GOOD + ALICE_ON_CALL + level) if "reaches nobody" in i]
    assert found and "channel 'email' reaches nobody of this level (no email)" in found[0]


def test_durability_reaches_the_sqlite_stores(tmp_path: Path) -> None:
    from core.storage.select import build_historian, build_journal

    default = load_config(write(tmp_path, GOOD))
    assert default.storage.durability == "power_cut"
    faster = load_config(write(tmp_path, GOOD + "storage: {durability: process_crash}\n"))
    for config, pragma in ((default, "FULL"), (faster, "NORMAL")):
        historian = build_historian(config.storage, tmp_path)
        journal = build_journal(config.storage, tmp_path)
        assert historian._synchronous == pragma and journal._synchronous == pragma  # type: ignore[attr-defined]
    assert issues(tmp_path, GOOD + "storage: {durability: sometimes}\n")


def test_a_file_nested_too_deeply_is_refused_without_a_traceback(tmp_path: Path) -> None:
    (found,) = issues(tmp_path, "site: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nests lists or mappings more than 64 deep" in found


def test_a_discrete_tag_reads_in_words_the_site_chose_or_its_roles() -> None:
    """0 and 1 are not what an operator reads: a door is fermée/ouverte, a pump says what the
    site wrote, any other discrete tag actif/inactif; a measurement keeps its unit."""
    from core.config.roles import shown
    from core.config.schema import Tag

    door = Tag(id="a.door", station="a", kind="discrete", label={"fr": "Porte"})
    words = {"off": {"fr": "arrêtée", "en": "stopped"}, "on": {"fr": "en marche", "en": "running"}}
    pump = Tag(id="a.pump", station="a", kind="discrete", label={"fr": "Pompe"}, states=words)
    alarm = Tag(id="a.intrusion", station="a", kind="discrete", label={"fr": "Intrusion"})
    level = Tag(id="a.level", station="a", unit="m", label={"fr": "Niveau"})
    assert [shown(door, v, "fr") for v in (0.0, 1.0)] == ["fermée", "ouverte"]
    assert [shown(pump, v, "en") for v in (0.0, 1.0)] == ["stopped", "running"]
    assert [shown(alarm, v, "fr") for v in (0.0, 1.0)] == ["inactif", "actif"]
    assert shown(level, 12.345, "fr") == "12,35 m" and shown(level, 12.345, "en") == "12.35 m"
