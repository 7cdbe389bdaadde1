"""Dashboards: live cards from the config, and an edit that is saved to the file and shown after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QInputDialog, QLabel, QToolButton

from core.config import ConfigError, load_config
from core.config.dashboards import Card, overlap
from core.config.editor import save_dashboards
from core.runtime import Runtime
from core.sim.station import DamStation
from hmi.style import DAY
from hmi.views.card import CardFrame
from hmi.window import MainWindow
from tests.conftest import eventually
from tests.unit.test_dashboard_editor import changed


def press(frame: CardFrame, text: str, qtbot: object) -> None:
    (button,) = [b for b in frame.handles.findChildren(QToolButton) if b.text() == text]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]


def placement(window: MainWindow) -> list[tuple[str, str, int, int, int, int]]:
    """What the dashboard shows: each card's kind, subject and grid cell (row, column, rows, columns)."""
    view = window.dashboards
    shown = []
    for frame in view.cards:
        row, column, rows, columns = view.grid.getItemPosition(view.grid.indexOf(frame))
        subject = frame.card.tag or frame.card.station or ",".join(frame.card.tags) or "-"
        shown.append((frame.card.type, subject, row, column, rows, columns))
    return shown


async def test_dashboard_cards_show_live_values(desktop: tuple[MainWindow, Runtime, DamStation]) -> None:
    window, _runtime, _station = desktop
    window.tabs.setCurrentWidget(window.dashboards)
    chooser = window.dashboards.chooser
    assert [chooser.itemData(i) for i in range(chooser.count())] == ["crue", "ganguise"]
    rain = next(
        f for f in window.dashboards.cards if f.card.type == "value" and f.card.tag == "lauragais.rain"
    )
    assert isinstance(rain.content, QLabel)
    await eventually(lambda: rain.content.text().endswith("mm/h"), what="the rain on its card")  # type: ignore[union-attr]
    link = next(
        f for f in window.dashboards.cards if f.card.type == "station" and f.card.station == "cevennes"
    )
    assert "OFFLINE" in link.content.text()  # type: ignore[union-attr]

    window.dashboards.add_card(Card(type="value", tag="lauragais.door"))  # a discrete tag reads in words
    door = window.dashboards.cards[-1]
    await eventually(lambda: door.content.text() in ("closed", "fermée"), what="the door in words")  # type: ignore[union-attr]


async def test_editing_a_dashboard_and_restarting_shows_the_edited_dashboard(
    desktop: tuple[MainWindow, Runtime, DamStation],
    qtbot: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, runtime, _station = desktop
    site = runtime.config_path
    assert site is not None
    before = site.read_text(encoding="utf-8")
    view = window.dashboards
    window.tabs.setCurrentWidget(view)
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert view.editing and view.cards[0].handles.isVisible()
    press(view.cards[0], "↓", qtbot)  # the Ganguise gauge moves down a row and gets wider
    press(view.cards[0], "⇥", qtbot)
    press(view.cards[1], "✕", qtbot)  # the Sainte-Cécile gauge goes
    monkeypatch.setattr(QInputDialog, "getItem", lambda *_args: ("lauragais.outflow", True))
    view._ask_and_add("value")  # what the "Add card" menu's "Value" entry does
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    expected = placement(window)
    assert expected[0] == ("gauge", "lauragais.level", 1, 0, 3, 3)
    assert ("gauge", "cevennes.level") not in [shown[:2] for shown in expected]
    assert expected[-1][:2] == ("value", "lauragais.outflow")

    text = site.read_text(encoding="utf-8")
    removed, added = changed(before, text)  # the diff a reviewer reads: the edited cards' lines only
    assert "      - {type: gauge, tag: lauragais.level, x: 0, y: 0, w: 2, h: 3}" in removed
    assert "      - {type: gauge, tag: cevennes.level, x: 2, y: 0, w: 2, h: 3}" in removed
    assert "      - {type: gauge, tag: lauragais.level, x: 0, y: 1, w: 3, h: 3}" in added
    assert added[-1].startswith("      - {type: value, tag: lauragais.outflow, ")
    # the cards the wider gauge now covers went down a row; nothing else in the file changed
    assert "      - {type: value, tag: lauragais.rain, x: 0, y: 4, w: 2, h: 1}" in added
    assert all(line.startswith("      - {type: ") for line in removed + added), (removed, added)
    assert len(removed) == len(added)  # one card removed, one added, the others moved in place
    cards = load_config(site).dashboards[0].cards
    assert not [(a, b) for i, a in enumerate(cards) for b in cards[i + 1 :] if overlap(a, b)]
    assert "# Dashboards: views of cards on a 12-column grid" in text  # comments kept…
    assert "# Who is on call" in text and "# The demo site: three simulated" in text
    restarted = Runtime(load_config(site), config_path=site, data_dir=tmp_path / "again")
    again = MainWindow(restarted, DAY, QSettings(str(tmp_path / "again.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)  # type: ignore[attr-defined]
    assert placement(again) == expected  # …and the edited dashboard is what the next start shows
    again.close()


def test_a_save_that_would_break_the_config_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    demo = Path(__file__).resolve().parents[2] / "resources" / "sites" / "demo.yaml"
    site.write_text(demo.read_text(encoding="utf-8"), encoding="utf-8")
    before = site.read_text(encoding="utf-8")
    config = load_config(site)
    broken = config.dashboards[0].model_copy(update={"cards": [Card(type="value", tag="nowhere.level")]})
    with pytest.raises(ConfigError) as err:
        save_dashboards(site, [broken])
    assert "unknown tag 'nowhere.level'" in str(err.value)
    assert site.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["site.yaml"]  # no temporary file left behind


async def test_a_dashboard_trend_reads_the_sites_time_like_the_trends_tab(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    window, _runtime, _station = desktop
    trends = [f for d in ("crue", "ganguise") for f in _cards_of(window, d) if f.card.type == "trend"]
    assert trends, "the demo dashboards have a trend card"
    tab_offset = window.trends.plot.getAxis("bottom").utcOffset
    assert tab_offset != 0  # Europe/Paris is never UTC
    for frame in trends:
        assert frame.content.getAxis("bottom").utcOffset == tab_offset  # type: ignore[union-attr]


def _cards_of(window: MainWindow, dashboard: str) -> list[CardFrame]:
    chooser = window.dashboards.chooser
    chooser.setCurrentIndex(chooser.findData(dashboard))
    return list(window.dashboards.cards)


async def test_a_trend_card_keeps_its_history_after_an_edit(
    desktop: tuple[MainWindow, Runtime, DamStation], qtbot: object
) -> None:
    window, _runtime, _station = desktop
    view = window.dashboards
    window.tabs.setCurrentWidget(view)

    def trend() -> CardFrame:
        return next(f for f in view.cards if f.card.type == "trend")

    await eventually(lambda: len(trend().points[trend().card.tags[0]][0]) > 3, what="the trend's history")
    first = trend().points[trend().card.tags[0]][0][0]
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    press(trend(), "↓", qtbot)  # the card is built again at its new place…

    def history_back() -> bool:
        xs = trend().points[trend().card.tags[0]][0]
        return len(xs) > 3 and xs[0] <= first  # from the historian: back to where it began

    await eventually(history_back, what="its history again")
    assert trend().card.y == 1  # …with the same hours on it, not a blank card


async def test_edit_mode_fits_the_window(
    desktop: tuple[MainWindow, Runtime, DamStation], qtbot: object
) -> None:
    window, _runtime, _station = desktop
    window.resize(1280, 720)
    view = window.dashboards
    window.tabs.setCurrentWidget(view)
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    await asyncio.sleep(0.2)  # a turn of the loop: the layout settles
    viewport = view.grid_host.parentWidget()
    assert viewport is not None and view.grid_host.width() <= viewport.width()  # no card past the right edge
    per_column = [frame.width() / frame.card.w for frame in view.cards]
    assert max(per_column) < 1.25 * min(per_column), per_column  # the columns share the width evenly
    for frame in view.cards:
        for button in frame.handles.findChildren(QToolButton):
            corner = button.mapTo(frame, button.rect().bottomRight())
            assert frame.rect().contains(corner), (frame.card, button.text())  # every handle within reach
