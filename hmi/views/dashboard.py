"""Dashboards: the site config's views of cards, and an edit mode that saves them back.

Each card is a small live widget on a 12-column grid. In edit mode every card gets handles to
move it (arrows), resize it (wider/narrower, taller/shorter) and remove it, and an "Add card"
menu adds one; "Save" writes the dashboards into the config file, comments kept
(``core.config.editor``), and the saved layout is what the next start shows.

Why one file: the view and its edit mode work on the same grid of card frames (moving, growing
and pushing cards down is the view's own layout); the file's writing is core/config/editor.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.config.dashboards import CARD_TYPES, COLUMNS, Card, Dashboard, settled
from core.config.editor import save_dashboards
from core.model import ConnectionState, Quality, Sample, StationStatus
from core.runtime import Runtime
from core.site.operations import Actor, Command
from hmi.bridge import Bridge
from hmi.i18n import language, number, tr
from hmi.style import PRIORITY_COLOUR, PRIORITY_SHAPE, Theme
from hmi.tasks import later
from hmi.views.synoptic import DamDrawing
from hmi.widgets.gauge import LevelGauge
from hmi.widgets.plugin_card import PluginCard
from hmi.widgets.timeaxis import site_time_axis

ROW_HEIGHT = 100
LINE_COLOURS = ("#4f7cac", "#b07d3a", "#6b8e5a", "#8a6aa8")  # muted, told apart by the legend
TREND_POINTS = 3600


class CardFrame(QFrame):
    """One card: its live content, and in edit mode the handles that move, resize or remove it."""

    def __init__(self, view: DashboardView, index: int, card: Card) -> None:
        super().__init__()
        self.setObjectName("card")
        self.view, self.index, self.card = view, index, card
        runtime = view.runtime
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        self.title = QLabel(self._title(runtime))
        self.title.setObjectName("title")
        self.title.setToolTip(self.title.text())
        # one line, however narrow the card: a one-row card keeps room for its value and handles
        self.title.setWordWrap(card.h > 2)
        self.title.setStyleSheet("font-size: 15px;" if card.h <= 2 else "")
        # the grid, not the text, decides a card's width: 12 equal columns
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.title)
        self.content = self._content(runtime, view.theme)
        self.content.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.content.setMinimumWidth(0)
        layout.addWidget(self.content, 1)
        self.handles = QWidget()
        row = QGridLayout(self.handles)  # two short rows: a two-column card keeps them all in view
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        for place, (text, tip, action) in enumerate(
            (
                ("←", tr("Move left"), lambda: view.move_card(index, -1, 0)),
                ("→", tr("Move right"), lambda: view.move_card(index, 1, 0)),
                ("↑", tr("Move up"), lambda: view.move_card(index, 0, -1)),
                ("↓", tr("Move down"), lambda: view.move_card(index, 0, 1)),
                ("⇤", tr("Narrower"), lambda: view.resize_card(index, -1, 0)),
                ("⇥", tr("Wider"), lambda: view.resize_card(index, 1, 0)),
                ("⤒", tr("Shorter"), lambda: view.resize_card(index, 0, -1)),
                ("⤓", tr("Taller"), lambda: view.resize_card(index, 0, 1)),
                ("✕", tr("Remove"), lambda: view.remove_card(index)),
            )
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setAccessibleName(tip)
            button.setFixedSize(28, 21)
            button.clicked.connect(action)
            row.addWidget(button, *((0, 4) if text == "✕" else divmod(place, 4)))  # moves, sizes; ✕ apart
        row.setColumnStretch(5, 1)
        layout.addWidget(self.handles)
        self.handles.setVisible(view.editing)

    def _title(self, runtime: Runtime) -> str:
        card = self.card
        if card.title is not None:
            return card.title.get(language())
        if card.tag is not None:
            tag = runtime.config.tag(card.tag)
            if tag is not None:
                station = runtime.config.station(tag.station).name
                return f"{station} — {tag.label.get(language())}"
        if card.station is not None:
            return runtime.config.station(card.station).name
        if card.type == "alarms":
            return tr("Alarms")
        labels = [t.label.get(language()) for t in (runtime.config.tag(x) for x in card.tags) if t]
        return ", ".join(labels)

    def _content(self, runtime: Runtime, theme: Theme) -> QWidget:
        card = self.card
        self.plugin: PluginCard | None = None
        if card.type not in CARD_TYPES:
            self.plugin = PluginCard(card, runtime)
            return self.plugin.widget
        if card.type == "gauge" and card.tag:
            tag = runtime.config.tag(card.tag)
            low, high = tag.range if tag and tag.range else (0.0, 20.0)
            gauge = LevelGauge(theme, low, high, tag.unit if tag else "", tag.decimals if tag else 2)
            gauge.limits = runtime.board.limits(card.tag)
            return gauge
        if card.type == "trend":
            plot = pg.PlotWidget(axisItems={"bottom": site_time_axis(runtime.config.site.timezone)})
            plot.setBackground(theme.background)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setClipToView(True)
            plot.addLegend(offset=(5, 5), labelTextColor=theme.text)
            self.curves: dict[str, Any] = {}
            for i, tag_id in enumerate(card.tags):
                known = runtime.config.tag(tag_id)
                unit = f" ({known.unit})" if known and known.unit else ""
                name = f"{known.label.get(language())}{unit}" if known else tag_id
                pen = pg.mkPen(LINE_COLOURS[i % len(LINE_COLOURS)], width=2)
                self.curves[tag_id] = plot.plot(pen=pen, name=name)
            self.points: dict[str, tuple[list[float], list[float]]] = {tag: ([], []) for tag in card.tags}
            widget: QWidget = plot
            return widget
        if card.type == "synoptic" and card.station:
            drawing = DamDrawing(runtime, theme)
            drawing.setMinimumSize(200, 150)
            drawing.show_station(card.station)
            return drawing
        if card.type == "alarms":
            return QListWidget()
        label = QLabel()
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setObjectName("big")
        return label

    def on_samples(self, batch: Sequence[Sample]) -> None:
        card, runtime = self.card, self.view.runtime
        if self.plugin is not None:
            failed = self.plugin.on_samples(batch)
            if failed is not None:  # the plugin's card broke: its reason takes its place
                box = self.layout()
                assert box is not None  # the card's own QVBoxLayout
                box.replaceWidget(self.content, failed)
                self.content.deleteLater()
                self.content = failed
            return
        if card.type == "value" and card.tag:
            sample = runtime.latest.get(card.tag)
            tag = runtime.config.tag(card.tag)
            if sample is not None and tag is not None and isinstance(self.content, QLabel):
                good = sample.quality is not Quality.BAD
                text = f"{number(sample.value, tag.decimals)} {tag.unit}" if good else tr("no value")
                self.content.setText(text)
        elif card.type == "gauge" and card.tag and isinstance(self.content, LevelGauge):
            sample = runtime.latest.get(card.tag)
            if sample is not None:
                self.content.set_value(sample.value, sample.quality is not Quality.BAD)
        elif card.type == "trend":
            for sample in batch:
                if sample.tag in self.points and sample.quality is not Quality.BAD:
                    xs, ys = self.points[sample.tag]
                    xs.append(sample.ts.timestamp())
                    ys.append(sample.value)
                    del xs[:-TREND_POINTS], ys[:-TREND_POINTS]
                    self.curves[sample.tag].setData(xs, ys)
        elif card.type == "synoptic":
            self.content.update()

    def on_alarms(self) -> None:
        if self.card.type != "alarms" or not isinstance(self.content, QListWidget):
            return
        runtime = self.view.runtime
        self.content.clear()
        for alarm in runtime.board.views():
            if self.card.station and alarm.station != self.card.station:
                continue
            shape = PRIORITY_SHAPE[alarm.priority]
            self.content.addItem(f"{shape} {alarm.message(language())}")
            item = self.content.item(self.content.count() - 1)
            item.setForeground(PRIORITY_COLOUR[alarm.priority])

    def on_station(self, status: StationStatus) -> None:
        if (
            self.card.type == "station"
            and status.station == self.card.station
            and isinstance(self.content, QLabel)
        ):
            ok = status.state in (ConnectionState.CONNECTED, ConnectionState.BACKFILLING)
            self.content.setText(f"● {tr('online')}" if ok else f"✖ {tr('OFFLINE')}")


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
