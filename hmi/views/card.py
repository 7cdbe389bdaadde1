"""One dashboard card: its live content (a value, a gauge, a trend, a dam, the alarms, a
plugin's widget) and, in edit mode, the handles that move, resize or remove it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QListWidget,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.config.dashboards import CARD_TYPES, Card
from core.config.roles import shown
from core.model import ConnectionState, Quality, Sample, StationStatus
from core.runtime import Runtime
from hmi.i18n import language, tr
from hmi.style import PRIORITY_COLOUR, PRIORITY_SHAPE, Theme
from hmi.views.synoptic import DamDrawing
from hmi.widgets.gauge import LevelGauge
from hmi.widgets.plugin_card import PluginCard
from hmi.widgets.timeaxis import site_time_axis

LINE_COLOURS = ("#4f7cac", "#b07d3a", "#6b8e5a", "#8a6aa8")  # muted, told apart by the legend
TREND_POINTS = 3600


class CardHost(Protocol):
    """What a card needs of its dashboard (``dashboard.DashboardView``)."""

    runtime: Runtime
    theme: Theme
    editing: bool

    def move_card(self, index: int, dx: int, dy: int) -> None: ...

    def resize_card(self, index: int, dw: int, dh: int) -> None: ...

    def remove_card(self, index: int) -> None: ...


class CardFrame(QFrame):
    """One card: its live content, and in edit mode the handles that move, resize or remove it."""

    def __init__(self, view: CardHost, index: int, card: Card) -> None:
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
                text = shown(tag, sample.value, language()) if good else tr("no value")
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
