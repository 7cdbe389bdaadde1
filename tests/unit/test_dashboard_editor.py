"""A dashboard save rewrites only the lines it edited: the site file stays the engineer's."""

from __future__ import annotations

import difflib
import os
import time
from pathlib import Path

from core.config import load_config
from core.config.dashboards import Card, Dashboard
from core.config.editor import edited_text, save_dashboards

DEMO = Path(__file__).resolve().parents[2] / "resources" / "sites" / "demo.yaml"


def changed(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines removed and the lines added, as a reviewer reads the diff."""
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def test_moving_one_card_changes_its_line_only(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    before = site.read_text(encoding="utf-8")
    dashboards = load_config(site).dashboards
    cards = list(dashboards[0].cards)
    cards[0] = cards[0].model_copy(update={"y": 5, "w": 3})
    save_dashboards(site, [dashboards[0].model_copy(update={"cards": cards}), *dashboards[1:]])
    removed, added = changed(before, site.read_text(encoding="utf-8"))
    assert removed == ["      - {type: gauge, tag: lauragais.level, x: 0, y: 0, w: 2, h: 3}"]
    assert added == ["      - {type: gauge, tag: lauragais.level, x: 0, y: 5, w: 3, h: 3}"]
    assert load_config(site).dashboards[0].cards[0].y == 5


def test_a_save_with_nothing_edited_leaves_the_file_byte_identical() -> None:
    text = DEMO.read_text(encoding="utf-8")
    assert edited_text(text, load_config(DEMO).dashboards) == text


def test_added_removed_and_retitled_take_their_own_lines() -> None:
    text = DEMO.read_text(encoding="utf-8")
    crue, ganguise = load_config(DEMO).dashboards
    cards = [card for card in crue.cards if card.tag != "cevennes.level"]
    cards.append(Card(type="value", tag="lauragais.outflow", x=6, y=5, w=2, h=1))
    title = ganguise.title.model_copy(update={"en": "Ganguise"})
    new = Dashboard(id="nuit", title={"fr": "Nuit"}, cards=[Card(type="alarms", w=12)])
    after = edited_text(
        text, [crue.model_copy(update={"cards": cards}), ganguise.model_copy(update={"title": title}), new]
    )
    removed, added = changed(text, after)
    assert removed == [
        "      - {type: gauge, tag: cevennes.level, x: 2, y: 0, w: 2, h: 3}",
        "    title: {fr: Barrage de la Ganguise, en: Ganguise dam}",
    ]
    assert added == [
        "      - {type: value, tag: lauragais.outflow, x: 6, y: 5, w: 2, h: 1}",
        "    title: {fr: Barrage de la Ganguise, en: Ganguise}",
        "  - id: nuit",
        "    title: {fr: Nuit}",
        "    cards:",
        "      - {type: alarms, w: 12}",
    ]


def test_a_hand_written_block_card_keeps_its_style_and_its_explicit_defaults(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8").replace(
        "      - {type: alarms, station: lauragais, x: 8, y: 3, w: 4, h: 2}",
        "      # the dam's own alarms\n      - type: alarms\n        station: lauragais\n"
        "        x: 8\n        y: 3\n        w: 4\n        h: 2  # as tall as the trend's gap",
    )
    site = tmp_path / "site.yaml"
    site.write_text(text, encoding="utf-8")
    crue, ganguise = load_config(site).dashboards
    cards = [
        card if card.type != "alarms" else card.model_copy(update={"x": 0, "y": 5}) for card in ganguise.cards
    ]
    save_dashboards(site, [crue, ganguise.model_copy(update={"cards": cards})])
    removed, added = changed(text, site.read_text(encoding="utf-8"))
    assert removed == ["        x: 8", "        y: 3"] and added == ["        x: 0", "        y: 5"]


def test_a_site_without_dashboards_gets_a_section_at_its_end(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8")
    text = text[: text.index("\ndashboards:")] + "\n"
    site = tmp_path / "site.yaml"
    site.write_text(text, encoding="utf-8")
    save_dashboards(site, [Dashboard(id="vue", title={"fr": "Vue"}, cards=[Card(type="alarms")])])
    after = site.read_text(encoding="utf-8")
    assert after.startswith(text) and load_config(site).dashboards[0].id == "vue"


def test_a_card_moved_onto_others_pushes_them_down_and_leaves_the_rest() -> None:
    from core.config.dashboards import overlap, settled

    cards = [
        Card(type="alarms", x=0, y=0, w=4, h=2),
        Card(type="alarms", x=0, y=2, w=4, h=2),  # right below the first
        Card(type="alarms", x=0, y=4, w=4, h=1),  # below that one
        Card(type="alarms", x=8, y=0, w=4, h=2),  # elsewhere
    ]
    grown = [cards[0].model_copy(update={"h": 3}), *cards[1:]]  # the first grows over the second
    after = settled(grown, 0)
    assert [(c.y, c.h) for c in after] == [(0, 3), (3, 2), (5, 1), (0, 2)]
    assert not [(a, b) for i, a in enumerate(after) for b in after[i + 1 :] if overlap(a, b)]


def test_a_save_keeps_the_files_mode_and_cleans_what_killed_saves_left(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    site.chmod(0o644)  # an admin's file, read by the service user
    killed = [tmp_path / f".site.yaml.{n}.yaml" for n in ("a1b2", "c3d4")]
    for left in killed:
        left.write_text("dashboards: [", encoding="utf-8")
        os.utime(left, (time.time() - 3600, time.time() - 3600))
    in_flight = tmp_path / ".site.yaml.e5f6.yaml"  # another desktop saving right now
    in_flight.write_text("", encoding="utf-8")
    dashboards = load_config(site).dashboards
    save_dashboards(site, dashboards[1:])
    assert site.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.yaml.e5f6.yaml", "site.yaml"]
