"""The alarm list: sort, filter, acknowledge (one or many, with a comment), shelve, unshelve.

Every action asks for what the journal needs: who (the operator signed in on the status bar)
and why (a comment or a reason). Shelved and suppressed alarms stay visible, in their own
filter, never hidden.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.alarms.view import AlarmView
from core.model import AlarmStatus
from core.runtime import Runtime
from core.site.operations import Actor, Command, OperationError
from hmi import i18n
from hmi.bridge import Bridge
from hmi.i18n import number, tr
from hmi.style import PRIORITY_COLOUR, PRIORITY_SHAPE, SHELVED, Theme
from hmi.tasks import later
from hmi.views.overview import priority_word

ACK_SHORTCUT = "F4"


def status_word(status: AlarmStatus) -> str:
    return {
        AlarmStatus.UNACK: tr("Unacknowledged"),
        AlarmStatus.ACKED: tr("Acknowledged"),
        AlarmStatus.RTN_UNACK: tr("Cleared, unacknowledged"),
        AlarmStatus.SHELVED: tr("Shelved"),
        AlarmStatus.SUPPRESSED: tr("Suppressed"),
        AlarmStatus.OUT_OF_SERVICE: tr("Out of service"),
        AlarmStatus.NORMAL: tr("Normal"),
    }[status]


class AlarmsView(QWidget):
    """Live alarm list; ``actor`` returns who acts from this desktop (the operator signed in)."""

    changed = Signal()
    COLUMNS = (
        "Priority",
        "State",
        "Time in",
        "Dam",
        "Alarm",
        "Value",
        "Value now",
        "Limit",
        "Acknowledged by",
    )

    def __init__(self, runtime: Runtime, bridge: Bridge, theme: Theme, actor: Callable[[], Actor]) -> None:
        super().__init__()
        self.runtime, self.theme, self.actor = runtime, theme, actor
        self.tz = ZoneInfo(runtime.config.site.timezone)
        self.filter = QComboBox()
        self.filter.addItem(tr("Active alarms"), "active")
        self.filter.addItem(tr("Shelved and suppressed"), "hidden")
        self.filter.addItem(tr("All"), "all")
        self.station = QComboBox()
        self.station.addItem(tr("All dams"), "")
        for station in runtime.config.stations:
            self.station.addItem(station.name, station.id)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)  # the message takes the rest
        self.table.setSortingEnabled(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the engine's order until one clicks
        self.table.verticalHeader().hide()
        self.ack_button = QPushButton(tr("Acknowledge") + f" ({ACK_SHORTCUT})")
        self.shelve_button = QPushButton(tr("Shelve…"))
        self.unshelve_button = QPushButton(tr("Unshelve"))
        self.reset_button = QPushButton(tr("Reset"))
        self.reset_button.setToolTip(tr("A latched alarm, back to normal, is reset once acknowledged"))
        self.service_button = QPushButton(tr("Out of service…"))
        self.return_button = QPushButton(tr("Return to service"))
        self.reset_button.clicked.connect(lambda: later(self.reset(self.selected())))
        self.service_button.clicked.connect(self._service_clicked)
        self.return_button.clicked.connect(lambda: later(self.return_to_service(self.selected())))
        self.ack_button.clicked.connect(self._ack_clicked)
        self.shelve_button.clicked.connect(self._shelve_clicked)
        self.unshelve_button.clicked.connect(self._unshelve_clicked)
        QShortcut(QKeySequence(ACK_SHORTCUT), self, self._ack_clicked)
        tools = QHBoxLayout()
        for widget in (self.filter, self.station):
            tools.addWidget(widget)
            widget.currentIndexChanged.connect(self.refresh)
        tools.addStretch(1)
        for button in self.buttons():
            tools.addWidget(button)
        self.arrived = QLabel()  # new alarms while the list holds still
        self.arrived.setObjectName("notice")
        self.notice = QLabel()  # why the last command was refused (not a modal: the horn goes on)
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.notice)
        layout.addWidget(self.arrived)
        layout.addWidget(self.table)
        self._order: list[str] = []  # the alarm ids as the rows show them now
        self._last: dict[str, AlarmView] = {}
        self.table.viewport().installEventFilter(self)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        bridge.alarm.connect(lambda _event: self.refresh())
        self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() is QEvent.Type.Leave and not self._selecting():
            self.refresh()  # the pointer left: what arrived meanwhile takes its place
        return False

    def _selecting(self) -> bool:
        return bool(self.table.selectionModel().selectedRows())

    def _selection_changed(self) -> None:
        if not self._selecting() and not self.table.viewport().underMouse():
            self.refresh()

    def frozen(self) -> bool:
        """Rows never move under the pointer or a selection (EEMUA 201): new alarms are added
        below and announced, and the list takes its order again once left alone."""
        return bool(self._order) and (self.table.viewport().underMouse() or self._selecting())

    # -- contents -------------------------------------------------------------------------

    def shown(self) -> list[AlarmView]:
        hidden = (AlarmStatus.SHELVED, AlarmStatus.SUPPRESSED, AlarmStatus.OUT_OF_SERVICE)
        mode, station = self.filter.currentData(), self.station.currentData()
        alarms = self.runtime.board.views()
        if mode == "active":
            alarms = [a for a in alarms if a.status not in hidden]
        elif mode == "hidden":
            alarms = [a for a in alarms if a.status in hidden]
        return [a for a in alarms if not station or a.station == station]

    def _value(self, alarm: AlarmView, value: float | None) -> str:
        if value is None or math.isnan(value):
            return "—"
        tag = self.runtime.config.tag(alarm.tag)
        return f"{number(value, tag.decimals)} {tag.unit}".strip() if tag else f"{value:g}"

    def refresh(self) -> None:
        alarms = self.shown()
        frozen = self.frozen()
        if frozen:
            now = {a.id: a for a in alarms}
            kept = [
                now.get(i) or self._gone(self._last[i]) for i in self._order if i in now or i in self._last
            ]
            new = [a for a in alarms if a.id not in set(self._order)]
            alarms = kept + new
            said = tr("{count} new alarm(s) below; the list sorts itself again when you leave it")
            self.arrived.setText(said.format(count=len(new)) if new else "")
        else:
            self.arrived.setText("")
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(alarms))
        for row, alarm in enumerate(alarms):
            hidden = alarm.status in (
                AlarmStatus.SHELVED,
                AlarmStatus.SUPPRESSED,
                AlarmStatus.OUT_OF_SERVICE,
            )
            colour = SHELVED if hidden else PRIORITY_COLOUR[alarm.priority]
            shelved = f"{alarm.shelved_by} ({alarm.shelved_reason})" if alarm.shelved_by else ""
            who = alarm.acknowledged_by or shelved
            cells = [
                f"{PRIORITY_SHAPE[alarm.priority]} {priority_word(alarm.priority)}",
                status_word(alarm.status) + (" · " + tr("local") if alarm.local else ""),
                alarm.since.astimezone(self.tz).strftime("%d/%m %H:%M:%S") if alarm.since else "—",
                alarm.station_name,
                alarm.message(i18n.language()),
                self._value(alarm, alarm.raised_value),
                self._value(alarm, alarm.value),
                "—" if alarm.limit is None else f"{alarm.limit:g}",
                who,
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, alarm.id)
                if column == 0:
                    item.setForeground(QBrush(colour))
                if column == 1 and alarm.unacknowledged:
                    item.setForeground(QBrush(QColor(colour)))
                self.table.setItem(row, column, item)
        if not frozen:
            self.table.setSortingEnabled(True)  # a click on a column sorts; never under the pointer
        first = (self.table.item(r, 0) for r in range(self.table.rowCount()))
        self._order = [cell.data(Qt.ItemDataRole.UserRole) for cell in first if cell is not None]
        self._last = {a.id: a for a in alarms}
        self.changed.emit()

    @staticmethod
    def _gone(alarm: AlarmView) -> AlarmView:
        """An alarm that left the list while it was held still: its row stays, said normal."""
        return replace(alarm, status=AlarmStatus.NORMAL, active=False)

    def selected(self) -> list[str]:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        items = [self.table.item(row, 0) for row in sorted(rows)]
        ids = [item.data(Qt.ItemDataRole.UserRole) for item in items if item is not None]
        return ids or [a.id for a in self.shown()[:1]]

    # -- actions (the journal gets who and why) -------------------------------------------

    def buttons(self) -> tuple[QPushButton, ...]:
        return (self.ack_button, self.shelve_button, self.unshelve_button, self.reset_button,
                self.service_button, self.return_button)  # fmt: skip

    def apply_role(self) -> None:
        """A command the signed-in role cannot carry is disabled (the authority refuses it anyway)."""
        actor = self.actor()
        needs = (Command.ACKNOWLEDGE, Command.SHELVE, Command.UNSHELVE, Command.RESET,
                 Command.REMOVE_FROM_SERVICE, Command.RETURN_TO_SERVICE)  # fmt: skip
        for button, command in zip(self.buttons(), needs, strict=True):
            button.setEnabled(actor.may(command))

    async def _carry(self, alarm_ids: list[str], command: Callable[[Actor, str], Awaitable[None]]) -> int:
        """Run ``command`` on each alarm through the board (this process or the server); count
        what was done and say why the rest was refused."""
        actor, done, refused = self.actor(), 0, []
        for alarm_id in alarm_ids:
            try:
                await command(actor, alarm_id)
                done += 1
            except OperationError as err:
                refused.append(err.text(i18n.language()))
        self.refresh()
        self.notice.setText("✖ " + "\n".join(dict.fromkeys(refused)) if refused else "")
        return done

    async def acknowledge(self, alarm_ids: list[str], comment: str) -> int:
        board = self.runtime.board
        return await self._carry(
            alarm_ids, lambda actor, alarm_id: board.acknowledge(actor, alarm_id, comment)
        )

    async def shelve(self, alarm_ids: list[str], minutes: int, reason: str) -> int:
        board, duration = self.runtime.board, timedelta(minutes=minutes)
        return await self._carry(
            alarm_ids, lambda actor, alarm_id: board.shelve(actor, alarm_id, reason, duration)
        )

    async def unshelve(self, alarm_ids: list[str]) -> int:
        board = self.runtime.board
        return await self._carry(alarm_ids, lambda actor, alarm_id: board.unshelve(actor, alarm_id))

    async def reset(self, alarm_ids: list[str]) -> int:
        board = self.runtime.board
        return await self._carry(alarm_ids, lambda actor, alarm_id: board.reset(actor, alarm_id))

    async def remove_from_service(self, alarm_ids: list[str], reason: str) -> int:
        board = self.runtime.board
        return await self._carry(
            alarm_ids, lambda actor, alarm_id: board.remove_from_service(actor, alarm_id, reason)
        )

    async def return_to_service(self, alarm_ids: list[str]) -> int:
        board = self.runtime.board
        return await self._carry(alarm_ids, lambda actor, alarm_id: board.return_to_service(actor, alarm_id))

    def _ack_clicked(self) -> None:
        ids = self.selected()
        if not ids:
            return
        comment, ok = QInputDialog.getText(self, tr("Acknowledge"), tr("Comment (optional):"))
        if ok:
            later(self.acknowledge(ids, comment))

    def _shelve_clicked(self) -> None:
        ids = self.selected()
        if not ids:
            return
        limit = int(self.runtime.config.alarm_settings.max_shelve_h * 60)
        minutes, ok = QInputDialog.getInt(self, tr("Shelve"), tr("Duration (minutes):"), 60, 1, limit)
        if not ok:
            return
        reason, ok = QInputDialog.getText(self, tr("Shelve"), tr("Reason (required):"))
        if ok and reason.strip():
            later(self.shelve(ids, minutes, reason))
        elif ok:
            QMessageBox.warning(self, tr("Shelve"), tr("A reason is required to shelve an alarm."))

    def _service_clicked(self) -> None:
        ids = self.selected()
        if not ids:
            return
        reason, ok = QInputDialog.getText(self, tr("Out of service…"), tr("Reason (required):"))
        if ok and reason.strip():
            later(self.remove_from_service(ids, reason))
        elif ok:
            QMessageBox.warning(self, tr("Out of service…"), tr("A reason is required."))

    def _unshelve_clicked(self) -> None:
        later(self.unshelve(self.selected()))
