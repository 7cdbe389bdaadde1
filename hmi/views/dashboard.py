"""Dashboards: the site config's views of cards, and an edit mode that saves them back.

Each card is a small live widget on a 12-column grid. In edit mode every card gets handles to
move it (arrows), resize it (wider/narrower, taller/shorter) and remove it, and an "Add card"
menu adds one; "Save" writes the dashboards into the config file, comments kept
(``core.config.editor``), and the saved layout is what the next start shows.

The view and its edit mode work on one grid of card frames (moving, growing and pushing cards
down is the view's own layout); a card's content is ``card.py``; the file's writing is
core/config/editor.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.config.dashboards import COLUMNS, Card, Dashboard, settled
from core.config.editor import save_dashboards
from core.model import Sample, StationStatus
from core.runtime import Runtime
from core.site.operations import Actor, Command
from hmi.bridge import Bridge
from hmi.i18n import language, tr
from hmi.style import Theme
from hmi.tasks import later
from hmi.views.card import CardFrame

ROW_HEIGHT = 100


class DashboardView(QWidget):
    def __init__(self, runtime: Runtime, bridge: Bridge, theme: Theme, actor: Callable[[], Actor]) -> None:
        super().__init__()
        self.runtime, self.theme, self.actor = runtime, theme, actor
        self.dashboards: list[Dashboard] = [d.model_copy(deep=True) for d in runtime.config.dashboards]
        self.editing = False
        self.dirty = False
        self.cards: list[CardFrame] = []
        self.chooser = QComboBox()
        for dashboard in self.dashboards:
            self.chooser.addItem(dashboard.title.get(language()), dashboard.id)
        self.chooser.currentIndexChanged.connect(lambda _i: self.rebuild())
        self.edit_button = QPushButton(tr("Edit"))
        self.edit_button.setCheckable(True)
        self.edit_button.toggled.connect(self.set_editing)
        self.add_button = QPushButton(tr("Add card"))
        self.add_button.setMenu(self._add_menu())
        self.save_button = QPushButton(tr("Save"))
        self.save_button.clicked.connect(self.save)
        top = QHBoxLayout()
        top.addWidget(self.chooser, 1)
        for widget in (self.edit_button, self.add_button, self.save_button):
            top.addWidget(widget)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        for column in range(COLUMNS):
            self.grid.setColumnStretch(column, 1)
        self.grid.setVerticalSpacing(6)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.grid_host)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        bridge.samples.connect(self._samples)
        bridge.alarm.connect(lambda _event: self._alarms())
        bridge.station.connect(self._station)
        self.set_editing(False)
        self.apply_role()
        self.rebuild()

    def apply_role(self) -> None:
        """Editing dashboards is an engineer's change (and the save is refused anyway)."""
        allowed = self.actor().may(Command.SAVE_DASHBOARDS)
        self.edit_button.setEnabled(allowed)
        self.edit_button.setToolTip("" if allowed else tr("Needs the engineer role"))

    @property
    def current(self) -> Dashboard | None:
        index = self.chooser.currentIndex()
        return self.dashboards[index] if 0 <= index < len(self.dashboards) else None

    def rebuild(self) -> None:
        for frame in self.cards:
            self.grid.removeWidget(frame)
            frame.deleteLater()
        self.cards = []
        dashboard = self.current
        if dashboard is None:
            return
        for row in range(self.grid.rowCount()):
            self.grid.setRowStretch(row, 0)
        bottom = max((card.y + card.h for card in dashboard.cards), default=0)
        for row in range(bottom):
            self.grid.setRowMinimumHeight(row, ROW_HEIGHT)
        self.grid.setRowStretch(bottom, 1)  # spare height goes below the cards, not between them
        for index, card in enumerate(dashboard.cards):
            frame = CardFrame(self, index, card)
            # the grid's columns share the width; a card's content never widens the grid past the window
            frame.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            frame.setFixedHeight(ROW_HEIGHT * card.h + self.grid.verticalSpacing() * (card.h - 1))
            self.grid.addWidget(frame, card.y, card.x, card.h, card.w)
            self.cards.append(frame)
        self._samples([])
        self._alarms()
        for status in self.runtime.stations.values():
            self._station(status)
        with contextlib.suppress(RuntimeError):  # no loop yet: the desktop's start loads it
            asyncio.get_running_loop()
            later(self.load_history())  # a rebuilt trend card shows its hours again, not a blank

    def set_editing(self, on: bool) -> None:
        self.editing = on
        self.add_button.setVisible(on)
        self.save_button.setVisible(on)
        for frame in self.cards:
            frame.handles.setVisible(on)

    # edits ----------------------------------------------------------------------------------
    def _replace(self, index: int, **changes: int | str | list[str] | None) -> None:
        dashboard = self.current
        assert dashboard is not None
        card = dashboard.cards[index]
        data = {**card.model_dump(), **changes}
        data["w"] = max(1, min(COLUMNS, int(data["w"])))
        data["h"] = max(1, min(12, int(data["h"])))
        data["x"] = max(0, min(COLUMNS - data["w"], int(data["x"])))
        data["y"] = max(0, min(99, int(data["y"])))
        cards = list(dashboard.cards)
        cards[index] = Card.model_validate(data)
        self._set_cards(settled(cards, index))  # never two cards on one cell

    def _set_cards(self, cards: list[Card]) -> None:
        index = self.chooser.currentIndex()
        self.dashboards[index] = self.dashboards[index].model_copy(update={"cards": cards})
        self.dirty = True
        self.rebuild()

    def move_card(self, index: int, dx: int, dy: int) -> None:
        card = self.current.cards[index]  # type: ignore[union-attr]
        self._replace(index, x=card.x + dx, y=card.y + dy)

    def resize_card(self, index: int, dw: int, dh: int) -> None:
        card = self.current.cards[index]  # type: ignore[union-attr]
        self._replace(index, w=card.w + dw, h=card.h + dh)

    def remove_card(self, index: int) -> None:
        cards = list(self.current.cards)  # type: ignore[union-attr]
        del cards[index]
        self._set_cards(cards)

    def add_card(self, card: Card) -> None:
        """Add ``card`` below the others."""
        dashboard = self.current
        assert dashboard is not None
        bottom = max((c.y + c.h for c in dashboard.cards), default=0)
        self._set_cards([*dashboard.cards, card.model_copy(update={"y": bottom})])

    def _add_menu(self) -> QMenu:
        menu = QMenu(self)
        kinds = {
            "value": tr("Value"),
            "gauge": tr("Gauge"),
            "trend": tr("Trend"),
            "synoptic": tr("Synoptic"),
            "alarms": tr("Alarm list"),
            "station": tr("Station status"),
        }
        for kind, label in kinds.items():
            menu.addAction(label, partial(self._ask_and_add, kind))
        return menu

    def _ask_and_add(self, kind: str) -> None:
        config = self.runtime.config
        if kind in ("synoptic", "station"):
            choices = [s.id for s in config.stations]
        elif kind in ("value", "gauge", "trend"):
            choices = [t.id for t in config.tags]
        else:
            choices = []
        choice = ""
        if choices:
            choice, ok = QInputDialog.getItem(self, tr("Add card"), tr("Show:"), choices, 0, False)
            if not ok:
                return
        fields: dict[str, object] = {"type": kind, "w": 4 if kind in ("trend", "synoptic", "alarms") else 2}
        if kind in ("synoptic", "station"):
            fields["station"] = choice
        elif kind == "trend":
            fields["tags"] = [choice]
        elif kind in ("value", "gauge"):
            fields["tag"] = choice
        self.add_card(Card.model_validate(fields))

    def save(self) -> bool:
        path = self.runtime.config_path
        if path is None:
            QMessageBox.warning(self, tr("Save"), tr("This site was not opened from a file."))
            return False
        try:
            self.runtime.operations.save_dashboards(
                self.actor(), str(path), lambda: save_dashboards(path, self.dashboards)
            )
        except Exception as err:  # refused, a located config error, a file error: say it, keep the edits
            QMessageBox.critical(self, tr("Save"), str(err))
            return False
        self.dirty = False
        window = self.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(tr("Dashboards saved to {path}").format(path=path), 10_000)
        return True

    async def load_history(self) -> None:
        """Fill the trend cards with the last 6 hours from the historian (never blocks the UI)."""
        end = self.runtime.clock.now()
        for frame in self.cards:
            for tag in frame.card.tags if frame.card.type == "trend" else []:
                buckets = await self.runtime.board.downsampled(tag, end - timedelta(hours=6), end, 720)
                xs, ys = frame.points[tag]
                history = [
                    (b.start.timestamp(), b.last) for b in buckets if not xs or b.start.timestamp() < xs[0]
                ]
                xs[:0], ys[:0] = [x for x, _ in history], [y for _, y in history]
                frame.curves[tag].setData(xs, ys)

    # live updates -----------------------------------------------------------------------------
    def _samples(self, batch: Sequence[Sample]) -> None:
        for frame in self.cards:
            frame.on_samples(batch)

    def _alarms(self) -> None:
        for frame in self.cards:
            frame.on_alarms()

    def _station(self, status: StationStatus) -> None:
        for frame in self.cards:
            frame.on_station(status)
