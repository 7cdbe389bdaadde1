"""The operator's name on a desktop without accounts: what the journal records with each action.

Remembered between sessions, and always shown whole: a crowded status bar squeezed the field to
the name's last letters ("arie Dupont"), so it is sized to the name it holds.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLineEdit

from hmi.i18n import tr


class OperatorField(QLineEdit):
    def __init__(self, settings: QSettings) -> None:
        super().__init__(str(settings.value("operator", "")))
        self.setPlaceholderText(tr("Operator name"))
        self.textChanged.connect(self._fit)
        self.editingFinished.connect(lambda: settings.setValue("operator", self.text()))
        self._fit(self.text())

    def _fit(self, text: str) -> None:
        metrics = self.fontMetrics()
        shown = text or self.placeholderText()
        self.setMinimumWidth(metrics.horizontalAdvance(shown) + 2 * metrics.averageCharWidth())
