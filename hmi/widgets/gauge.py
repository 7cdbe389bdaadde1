"""An analog level indicator: a pointer on a bar with the LL/L/H/HH zones shaded.

Grey when normal; the number beside it with unit and fixed decimals; a bad or stale value is
hatched and says so, never shown as if it were fresh (HMI guide, "Values").
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontInfo, QPainter, QPen
from PySide6.QtWidgets import QWidget

from hmi.i18n import number, tr
from hmi.style import Theme


class LevelGauge(QWidget):
    def __init__(self, theme: Theme, low: float, high: float, unit: str, decimals: int) -> None:
        super().__init__()
        self.theme = theme
        self.low, self.high = low, high
        self.unit, self.decimals = unit, decimals
        self.value: float | None = None
        self.valid = True
        self.limits: dict[str, float] = {}  # "LL", "L", "H", "HH", "HHH" -> value
        self.setMinimumSize(QSize(110, 220))

    def set_value(self, value: float | None, valid: bool) -> None:
        self.value, self.valid = value, valid
        self.update()

    def text(self) -> str:
        if self.value is None:
            return "—"
        if not self.valid or math.isnan(self.value):
            return tr("invalid")
        return f"{number(self.value, self.decimals)} {self.unit}"

    def _y(self, bar: QRectF, value: float) -> float:
        share = (min(max(value, self.low), self.high) - self.low) / ((self.high - self.low) or 1.0)
        return bar.bottom() - share * bar.height()

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        theme = self.theme
        bar = QRectF(12, 10, 34, self.height() - 50)
        painter.fillRect(bar, QColor(theme.panel))
        # alarm zones, muted: colour is for the value only when it enters them
        zones = (("HHH", "#a99090"), ("HH", "#b9a0a0"), ("H", "#c9bcae"), ("L", "#c9bcae"), ("LL", "#b9a0a0"))
        for kind, shade in zones:
            if kind not in self.limits:
                continue
            y = self._y(bar, self.limits[kind])
            top, bottom = (bar.top(), y) if kind.startswith("H") else (y, bar.bottom())
            painter.fillRect(QRectF(bar.left(), top, bar.width(), bottom - top), QColor(shade))
            painter.setPen(QPen(QColor(theme.text), 1))
            painter.drawLine(int(bar.left()), int(y), int(bar.right() + 6), int(y))
            painter.drawText(int(bar.right() + 8), int(y + 5), kind)
        if self.value is not None and self.valid and not math.isnan(self.value):
            y = self._y(bar, self.value)
            painter.fillRect(
                QRectF(bar.left() + 8, y, bar.width() - 16, bar.bottom() - y), QColor(theme.water)
            )
            painter.setPen(QPen(QColor(theme.text), 3))
            painter.drawLine(int(bar.left() - 8), int(y), int(bar.right()), int(y))
        else:
            painter.fillRect(bar, QBrush(QColor(theme.muted), Qt.BrushStyle.BDiagPattern))
        painter.setPen(QPen(QColor(theme.structure), 1))
        painter.drawRect(bar)
        font = QFont(self.font())
        font.setPixelSize(round(QFontInfo(self.font()).pixelSize() * 1.2))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(theme.text))
        painter.drawText(
            QRectF(0, self.height() - 34, self.width(), 30), Qt.AlignmentFlag.AlignCenter, self.text()
        )
        painter.end()
