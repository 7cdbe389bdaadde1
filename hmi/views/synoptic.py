"""Level 2 — one dam's synoptic, drawn from the config alone (a new dam needs no drawing).

ISA-101 high-performance style: the reservoir, the dam body, the spillway and the bottom
outlet in greys and a muted blue; colour only where an alarm is active, with its shape.
Every value is a link: a click opens its trend (level 3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QComboBox, QVBoxLayout, QWidget

from core.config.roles import dam_tags, shown
from core.model import AlarmStatus, CrestForecast, Quality, Sample
from core.runtime import Runtime
from hmi.bridge import Bridge
from hmi.i18n import language, tr
from hmi.style import PRIORITY_COLOUR, PRIORITY_SHAPE, Theme
from hmi.widgets.crest import crest_ahead

# where each variable is written: in the sky above the valley, left of the valley side, right of
# the dam's downstream face (the placing itself, in _place, keeps every label off the drawing)
SKY = ("rain", "rain_total", "level", "volume")
LABELS = {
    "rain": "Rain", "rain_total": "Rain total", "inflow": "Inflow", "level": "Level", "volume": "Volume",
    "spillway_flow": "Spillway", "gate": "Bottom gate", "outflow": "Outflow",
}  # fmt: skip


def _area(polygon: QPolygonF) -> QPainterPath:
    path = QPainterPath()
    path.addPolygon(polygon)
    return path


def _line(a: QPointF, b: QPointF, width: float) -> QPainterPath:
    path = QPainterPath(a)
    path.lineTo(b)
    stroker = QPainterPathStroker()
    stroker.setWidth(width)
    return stroker.createStroke(path)


def _bold(metrics: QFontMetricsF, font: QFont, text: str) -> float:
    bold = QFont(font)
    bold.setBold(True)
    return QFontMetricsF(bold).horizontalAdvance(text)


class DamDrawing(QWidget):
    open_tag = Signal(str)

    def __init__(self, runtime: Runtime, theme: Theme) -> None:
        super().__init__()
        self.runtime, self.theme = runtime, theme
        self.setMinimumSize(700, 420)
        self.hot: dict[str, QRectF] = {}  # each value's label and value, a link to its trend
        self.drawing: list[QPainterPath] = []  # what the labels must keep clear of
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
        return low, high, self.runtime.board.limits(self._tag_id("level"))

    def text_of(self, key: str) -> str:
        tag = self.runtime.config.tag(self._tag_id(key))
        sample = self._sample(key)
        if tag is None or sample is None:
            return "—"
        if sample.quality is Quality.BAD or math.isnan(sample.value):
            return tr("invalid")
        return shown(tag, sample.value, language())

    def _alarm_of(self, key: str) -> object | None:
        tag_id = self._tag_id(key)
        shown = (AlarmStatus.UNACK, AlarmStatus.ACKED, AlarmStatus.RTN_UNACK)
        active = [a for a in self.runtime.board.views() if a.tag == tag_id and a.status in shown]
        return min(active, key=lambda a: a.priority) if active else None

    def marks(self, limits: dict[str, float]) -> list[tuple[str, float, Qt.PenStyle]]:
        marks = [(kind, value, Qt.PenStyle.DashLine) for kind, value in limits.items()]
        station = self.runtime.config.station(self.station)
        reservoir = station.reservoir if station else None
        if reservoir is not None and reservoir.spillway is not None:
            marks.append((tr("Spillway sill"), reservoir.spillway.crest_m, Qt.PenStyle.SolidLine))
        if reservoir is not None and reservoir.phe_m is not None:
            marks.append((tr("PHE"), reservoir.phe_m, Qt.PenStyle.SolidLine))
        return marks

    def peak(self, forecast: CrestForecast | None) -> tuple[float, str] | None:
        """The crest still to come and its words (the trend's, ``hmi.widgets.crest``)."""
        level = self.runtime.config.tag(self._tag_id("level"))
        return crest_ahead(forecast, level, self.runtime.config.site.timezone) if level else None

    def paintEvent(self, _event: object) -> None:
        w, h = self.width(), self.height()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        theme = self.theme
        low, high, limits = self._level_range()
        bottom, top = h * 0.85, max(h * 0.12, 56.0)  # room above for the sky's labels

        def y_of(value: float) -> float:
            return bottom - (min(max(value, low), high) - low) / ((high - low) or 1) * (bottom - top)

        def valley_x(y: float) -> float:  # the valley side, from (0.10, top) down to (0.26, bottom)
            return w * (0.10 + 0.16 * (y - top) / (bottom - top))

        def face_x(y: float) -> float:  # the dam's upstream face, from (0.62, top) to (0.56, bottom)
            return w * (0.62 - 0.06 * (y - top) / (bottom - top))

        def back_x(y: float) -> float:  # its downstream face, from (0.68, top) to (0.80, bottom)
            return w * (0.68 + 0.12 * (y - top) / (bottom - top))

        # reservoir (left) and dam body (right), in greys
        dam = QPolygonF([QPointF(w * 0.62, top), QPointF(w * 0.68, top), QPointF(w * 0.80, bottom),
                         QPointF(w * 0.56, bottom)])  # fmt: skip
        self.drawing = [_area(dam)]
        level = self._sample("level")
        if level is not None and level.quality is not Quality.BAD and not math.isnan(level.value):
            y = y_of(level.value)
            water = QPolygonF([QPointF(valley_x(y), y), QPointF(face_x(y), y),
                               QPointF(w * 0.56, bottom), QPointF(w * 0.26, bottom)])  # fmt: skip
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(theme.water))
            p.drawPolygon(water)
            self.drawing.append(_area(water))
        p.setPen(QPen(QColor(theme.text), 2))
        p.setBrush(QColor(theme.structure))
        p.drawPolygon(dam)
        lines = [(QPointF(w * 0.10, top), QPointF(w * 0.26, bottom)),  # valley side
                 (QPointF(w * 0.26, bottom), QPointF(w * 0.98, bottom))]  # fmt: skip
        for a, b in lines:
            p.drawLine(a, b)
        # outlet pipe through the dam, and the downstream channel
        p.setPen(QPen(QColor(theme.text), 4))
        outlet = (QPointF(w * 0.56, bottom - 12), QPointF(w * 0.92, bottom - 12))
        p.drawLine(*outlet)
        self.drawing += [_line(a, b, 4) for a, b in (*lines, outlet)]
        metrics = QFontMetricsF(self.font())
        # limit marks across the reservoir, each named left of the valley side; the dam's own
        # reference levels (spillway crest, PHE) solid, the alarm limits dashed
        placed: list[tuple[float, float]] = []  # each label's height and left edge
        for kind, value, style in sorted(self.marks(limits), key=lambda mark: -mark[1]):
            y = y_of(value)
            p.setPen(QPen(QColor(theme.muted), 1, style))
            p.drawLine(QPointF(valley_x(y), y), QPointF(face_x(y), y))
            right = valley_x(y) - 8  # two close levels: the second name goes left of the first
            for other_y, other_left in placed:
                if abs(other_y - y) < metrics.height():
                    right = min(right, other_left - 10)
            left = right - metrics.horizontalAdvance(kind)
            p.drawText(QPointF(left, y + 5), kind)
            placed.append((y, left))
        # the predicted peak still to come, drawn where the water will stand, with its time
        peak = self.peak(self.runtime.board.crest(self.station))
        if peak is not None and low <= peak[0] <= high:
            y = y_of(peak[0])
            p.setPen(QPen(QColor(theme.text), 2, Qt.PenStyle.DotLine))
            p.drawLine(QPointF(valley_x(y), y), QPointF(face_x(y), y))
            p.drawText(QPointF(valley_x(y) + 6, y - 5), peak[1])
        # values, each a link to its trend; colour only when its alarm is active
        self.hot = {}
        font = QFont(self.font())
        sky_x = w * 0.02
        for key in LABELS:
            if self.runtime.config.tag(self._tag_id(key)) is None:
                continue
            alarm = self._alarm_of(key)
            label = tr(LABELS[key])
            text = self.text_of(key)
            if alarm is not None:
                text = f"{PRIORITY_SHAPE[alarm.priority]} {text}"  # type: ignore[attr-defined]
            width = max(metrics.horizontalAdvance(label), _bold(metrics, font, text)) + 4
            if key in SKY:  # a row above the valley, left to right
                x, y = (max(sky_x, w * 0.30) if key == "level" else sky_x), top - 46
                sky_x = x + width + 24
            elif key == "inflow":  # left of the valley side, half-way down
                y = top + 0.45 * (bottom - top)
                x = max(4.0, valley_x(y) - 12 - width)
            elif key == "spillway_flow":  # over the crest and down: right of the downstream face
                y = top + 4
                x = back_x(y + 44) + 12
            elif key == "outflow":
                y = bottom - 112
                x = min(w - 4 - width, max(back_x(y + 44) + 12, w * 0.83))
            else:  # the bottom gate, above the channel it opens onto
                y = bottom - 64
                x = min(w - 4 - width, max(back_x(y + 44) + 12, w * 0.83))
            font.setBold(False)
            p.setFont(font)
            p.setPen(QColor(theme.muted))
            p.drawText(QPointF(x, y + 14), label)
            font.setBold(True)
            p.setFont(font)
            colour = QColor(theme.text)
            if alarm is not None:
                colour = PRIORITY_COLOUR[alarm.priority]  # type: ignore[attr-defined]
            p.setPen(colour)
            p.drawText(QPointF(x, y + 34), text)
            self.hot[key] = QRectF(x, y, width, 40)
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
