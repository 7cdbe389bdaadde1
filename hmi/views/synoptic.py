"""Level 2 — one dam's synoptic, drawn from the config alone (a new dam needs no drawing).

ISA-101 high-performance style: the reservoir, the dam body, the spillway and the bottom
outlet in greys and a muted blue; colour only where an alarm is active, with its shape.
Every value is a link: a click opens its trend (level 3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QComboBox, QVBoxLayout, QWidget

from core.config.roles import dam_tags
from core.model import AlarmStatus, Quality, Sample
from core.runtime import Runtime
from hmi.bridge import Bridge
from hmi.i18n import tr
from hmi.style import PRIORITY_COLOUR, PRIORITY_SHAPE, Theme

# where each variable is written on the drawing (fractions of the width and height)
PLACES = {
    "rain": (0.06, 0.08),
    "rain_total": (0.06, 0.15),
    "inflow": (0.06, 0.55),
    "level": (0.40, 0.22),
    "volume": (0.40, 0.29),
    "spillway_flow": (0.66, 0.10),
    "gate": (0.84, 0.74),
    "outflow": (0.86, 0.62),
}
LABELS = {
    "rain": "Rain", "rain_total": "Rain total", "inflow": "Inflow", "level": "Level", "volume": "Volume",
    "spillway_flow": "Spillway", "gate": "Bottom gate", "outflow": "Outflow",
}  # fmt: skip


class DamDrawing(QWidget):
    open_tag = Signal(str)

    def __init__(self, runtime: Runtime, theme: Theme) -> None:
        super().__init__()
        self.runtime, self.theme = runtime, theme
        self.setMinimumSize(700, 420)
        self.hot: dict[str, QRectF] = {}
        self.show_station(runtime.config.stations[0].id)

    def show_station(self, station: str) -> None:
        self.station = station
        self.roles = dam_tags(self.runtime.config, station)  # each role's tag, named as the site names it
        self.update()

    def _tag_id(self, key: str) -> str:
        return self.roles.get(key, "")

    def _sample(self, key: str) -> Sample | None:
        return self.runtime.latest.get(self._tag_id(key))

    def _level_range(self) -> tuple[float, float, dict[str, float]]:
        level = self.runtime.config.tag(self._tag_id("level"))
        low, high = level.range if level and level.range else (0.0, 20.0)
        return low, high, self.runtime.alarms.limits(self._tag_id("level"))

    def text_of(self, key: str) -> str:
        tag = self.runtime.config.tag(self._tag_id(key))
        sample = self._sample(key)
        if tag is None or sample is None:
            return "—"
        if sample.quality is Quality.BAD or math.isnan(sample.value):
            return tr("invalid")
        return f"{sample.value:.{tag.decimals}f} {tag.unit}".strip()

    def _alarm_of(self, key: str) -> object | None:
        tag_id = self._tag_id(key)
        shown = (AlarmStatus.UNACK, AlarmStatus.ACKED, AlarmStatus.RTN_UNACK)
        active = [a for a in self.runtime.board.views() if a.tag == tag_id and a.status in shown]
        return min(active, key=lambda a: a.priority) if active else None

    def paintEvent(self, _event: object) -> None:
        w, h = self.width(), self.height()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        theme = self.theme
        low, high, limits = self._level_range()
        bottom, top = h * 0.85, h * 0.12

        def y_of(value: float) -> float:
            return bottom - (min(max(value, low), high) - low) / ((high - low) or 1) * (bottom - top)

        # reservoir (left) and dam body (right), in greys
        dam = QPolygonF([QPointF(w * 0.62, top), QPointF(w * 0.68, top), QPointF(w * 0.80, bottom),
                         QPointF(w * 0.56, bottom)])  # fmt: skip
        level = self._sample("level")
        if level is not None and level.quality is not Quality.BAD and not math.isnan(level.value):
            y = y_of(level.value)
            share = (y - top) / (bottom - top)  # the water follows the valley side and the dam face
            water = QPolygonF([QPointF(w * (0.10 + 0.16 * share), y), QPointF(w * (0.62 - 0.06 * share), y),
                               QPointF(w * 0.56, bottom), QPointF(w * 0.26, bottom)])  # fmt: skip
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(theme.water))
            p.drawPolygon(water)
        p.setPen(QPen(QColor(theme.text), 2))
        p.setBrush(QColor(theme.structure))
        p.drawPolygon(dam)
        p.drawLine(QPointF(w * 0.10, top), QPointF(w * 0.26, bottom))  # valley side
        p.drawLine(QPointF(w * 0.26, bottom), QPointF(w * 0.98, bottom))
        # outlet pipe through the dam, and the downstream channel
        p.setPen(QPen(QColor(theme.text), 4))
        p.drawLine(QPointF(w * 0.56, bottom - 12), QPointF(w * 0.92, bottom - 12))
        # limit marks on the upstream face
        p.setPen(QPen(QColor(theme.muted), 1, Qt.PenStyle.DashLine))
        for kind, value in limits.items():
            y = y_of(value)
            p.drawLine(QPointF(w * 0.18, y), QPointF(w * 0.62, y))
            p.drawText(QPointF(w * 0.13, y + 5), kind)
        # values, each a link to its trend; colour only when its alarm is active
        self.hot = {}
        font = QFont(self.font())
        for key, (fx, fy) in PLACES.items():
            if self.runtime.config.tag(self._tag_id(key)) is None:
                continue
            alarm = self._alarm_of(key)
            label = tr(LABELS[key])
            text = self.text_of(key)
            font.setBold(False)
            p.setFont(font)
            p.setPen(QColor(theme.muted))
            x, y = w * fx, h * fy
            p.drawText(QPointF(x, y), label)
            font.setBold(True)
            p.setFont(font)
            colour = QColor(theme.text)
            if alarm is not None:
                colour = PRIORITY_COLOUR[alarm.priority]  # type: ignore[attr-defined]
                text = f"{PRIORITY_SHAPE[alarm.priority]} {text}"  # type: ignore[attr-defined]
            p.setPen(colour)
            p.drawText(QPointF(x, y + 20), text)
            self.hot[key] = QRectF(x - 4, y - 16, max(90.0, 9.0 * len(text)), 42)
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        for key, area in self.hot.items():
            if area.contains(event.position()):
                self.open_tag.emit(self._tag_id(key))
                return


class SynopticView(QWidget):
    """The dam picker and its drawing; repaints on every sample or alarm of the site."""

    open_tag = Signal(str)

    def __init__(self, runtime: Runtime, bridge: Bridge, theme: Theme) -> None:
        super().__init__()
        self.picker = QComboBox()
        for station in runtime.config.stations:
            self.picker.addItem(station.name, station.id)
        self.drawing = DamDrawing(runtime, theme)
        self.drawing.open_tag.connect(self.open_tag)
        self.picker.currentIndexChanged.connect(
            lambda _i: self.drawing.show_station(self.picker.currentData())
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addWidget(self.drawing, 1)
        bridge.samples.connect(self._samples)
        bridge.alarm.connect(lambda _event: self.drawing.update())

    def show_station(self, station: str) -> None:
        self.picker.setCurrentIndex(max(0, self.picker.findData(station)))
        self.drawing.show_station(station)

    def _samples(self, batch: Sequence[Sample]) -> None:
        prefix = self.drawing.station + "."
        if any(sample.tag.startswith(prefix) for sample in batch):
            self.drawing.update()
