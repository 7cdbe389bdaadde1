"""The alarm journal: every transition with who did it and why, filtered, exported to CSV."""

from __future__ import annotations

import asyncio
import csv
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.model import AlarmEvent
from core.runtime import Runtime
from hmi import i18n
from hmi.bridge import Bridge
from hmi.i18n import tr

PERIODS = (
    ("Last hour", timedelta(hours=1)),
    ("Last 24 hours", timedelta(days=1)),
    ("Last 7 days", timedelta(days=7)),
    ("Last 30 days", timedelta(days=30)),
)


class JournalView(QWidget):
    COLUMNS = ("Time", "Action", "Alarm", "User", "Comment")

    def __init__(self, runtime: Runtime, bridge: Bridge) -> None:
        super().__init__()
        self.runtime = runtime
        self.tz = ZoneInfo(runtime.config.site.timezone)
        self.period = QComboBox()
        for label, span in PERIODS:
            self.period.addItem(tr(label), span)
        self.period.setCurrentIndex(1)
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("Filter (dam, alarm, user…)"))
        export = QPushButton(tr("Export CSV…"))
        export.clicked.connect(self._export_clicked)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        tools = QHBoxLayout()
        tools.addWidget(self.period)
        tools.addWidget(self.search, 1)
        tools.addWidget(export)
        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.table)
        self.entries: list[AlarmEvent] = []
        self.period.currentIndexChanged.connect(self.reload)
        self.search.textChanged.connect(self.show_entries)
        bridge.alarm.connect(lambda _event: self.reload())
        self._task: asyncio.Task[None] | None = None

    def reload(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.load())

    async def load(self) -> None:
        end = self.runtime.clock.now() + timedelta(seconds=1)
        self.entries = await self.runtime.board.journal(end - self.period.currentData(), end, 20_000)
        self.show_entries()

    def visible(self) -> list[AlarmEvent]:
        needle = self.search.text().strip().lower()
        french = i18n.language() == "fr"
        shown = []
        for e in reversed(self.entries):  # newest first
            text = e.message_fr if french else e.message_en
            if not needle or needle in f"{text} {e.user} {e.comment} {e.action}".lower():
                shown.append(e)
        return shown

    def show_entries(self) -> None:
        entries = self.visible()
        french = i18n.language() == "fr"
        self.table.setRowCount(len(entries))
        for row, e in enumerate(entries):
            when = e.ts.astimezone(self.tz).strftime("%d/%m/%Y %H:%M:%S")
            cells = (when, tr(e.action), e.message_fr if french else e.message_en, e.user, e.comment)
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))

    def export_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["time", "alarm", "action", "status", "priority", "value", "user", "comment", "message"]
            )
            for e in self.visible():
                value = "" if e.value is None else e.value
                priority = e.priority.name.lower()
                writer.writerow([e.ts.isoformat(), e.alarm, e.action, e.status.value, priority, value, e.user,
                                 e.comment, e.message_fr])  # fmt: skip

    def _export_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("Export CSV…"), "journal.csv", "CSV (*.csv)")
        if name:
            self.export_csv(Path(name))
