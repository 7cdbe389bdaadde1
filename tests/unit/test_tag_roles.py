"""Tag roles: said by the tag, or read from its name; one tag per role and dam."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import load_config
from core.config.loader import ConfigError
from core.config.roles import dam_tags

SITE = """\
site: {name: Rôles}
stations:
  - {id: aude, name: Aude, endpoint: "opc.tcp://127.0.0.1:4840/"}
tags:
  - {id: aude.level, station: aude, node: "ns=2;s=L0", label: {fr: Ancien niveau}}
  - {id: aude.lt101, station: aude, node: "ns=2;s=L1", role: level, label: {fr: Niveau LT101}}
  - {id: aude.inflow, station: aude, node: "ns=2;s=I", label: {fr: Débit entrant}}
  - {id: aude.pt9, station: aude, node: "ns=2;s=P", label: {fr: Pression}}
"""


def test_an_explicit_role_wins_over_a_name_and_other_tags_have_none(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(SITE, encoding="utf-8")
    assert dam_tags(load_config(path), "aude") == {"level": "aude.lt101", "inflow": "aude.inflow"}


def test_two_tags_with_the_same_role_on_a_dam_are_refused_where_the_second_is(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(SITE.replace('node: "ns=2;s=P",', 'node: "ns=2;s=P", role: level,'), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert "site.yaml:8: tags[3].role: aude.lt101 is already the level of aude" in str(refused.value)


def test_an_unknown_role_lists_the_roles(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(SITE.replace("role: level", "role: niveau"), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert "tags[1].role" in str(refused.value) and "spillway_flow" in str(refused.value)
