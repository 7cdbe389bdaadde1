"""Who is paged, in one look: who is on call now and next, each incident's next step, and what
was sent to whom, delivered or not, and who acknowledged.

Read from the board every few seconds and after every alarm event: from this process's own
paging when it is the authority, from the server's ``/api/v1/oncall`` for a client.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.runtime import Runtime
from core.site.oncall import IncidentDuty, OnCallView, Sent
from hmi import i18n
from hmi.bridge import Bridge
from hmi.i18n import tr

REFRESH_MS = 5_000  # deliveries settle without an alarm event: read again this often


def incident_word(state: str) -> str:
    return {
        "open": tr("Paging"),
        "acknowledged": tr("Taken in charge"),
        "cleared": tr("Back to normal"),
        "exhausted": tr("Nobody answered"),
    }.get(state, state)


def delivery_word(state: str) -> str:
    return {
        "sending": tr("Sending"),
        "retry": tr("Retry planned"),
        "sent": tr("Sent"),
        "delivered": tr("Delivered"),
        "failed": tr("Failed"),
        "skipped": tr("Skipped (channel down)"),
        "cancelled": tr("Cancelled (already acknowledged)"),
        "unknown": tr("Unknown (server stopped while sending)"),
    }.get(state, state)


def kind_word(kind: str) -> str:
    return {
        "page": tr("Page"),
        "ack": tr("Acknowledgement notice"),
        "clear": tr("Back-to-normal notice"),
    }.get(kind, kind)


def channel_word(channel: str) -> str:
    return {"sms": tr("SMS"), "voice": tr("Voice call"), "email": tr("E-mail")}.get(channel, channel)


def when(ts: datetime, zone: tzinfo) -> str:
    return ts.astimezone(zone).strftime("%d/%m %H:%M")


def next_step(incident: IncidentDuty, zone: tzinfo) -> str:
    """What the escalation does next if nobody answers, in words."""
    due = incident.due
    if due is None:
        return "—"
    at = due.at.astimezone(zone).strftime("%H:%M")
    if due.level is None:
        return tr("End of the escalation at {at}").format(at=at)
    people = ", ".join(due.people) or "—"
    return tr("Level {level} at {at}: {people}").format(level=due.level + 1, at=at, people=people)


def _why(sent: Sent) -> str:
    """A failure's reason; not a provider's message id (a Twilio SID means nothing here)."""
    return sent.detail if sent.state in ("failed", "skipped", "retry", "unknown") else ""


def _table(columns: list[str], stretch: int | None) -> QTableWidget:
    """A read-only table; ``stretch`` takes the room left (None: the last column)."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))


class PagingView(QWidget):
    def __init__(self, runtime: Runtime, bridge: Bridge) -> None:
        super().__init__()
        self.runtime = runtime
        self.zone = ZoneInfo(runtime.config.site.timezone)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.teams = _table([tr("Team"), tr("On call now"), tr("Until"), tr("Next"), tr("From")], None)
        self.incidents = _table(
            [tr("Incident"), tr("State"), tr("Opened"), tr("Alarms"), tr("Level"), tr("Acknowledged by"),
             tr("Next step")],
            3,
        )  # fmt: skip
        self.timeline = _table(
            [tr("Time"), tr("Person"), tr("Channel"), tr("Message"), tr("Level"), tr("State"), tr("Why")],
            6,
        )
        self.incidents.itemSelectionChanged.connect(self._show_timeline)
        split = QSplitter(Qt.Orientation.Vertical)
        for title, table in (
            (tr("On call"), self.teams),
            (tr("Incidents"), self.incidents),
            (tr("Who was paged"), self.timeline),
        ):
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 4, 0, 0)
            heading = QLabel(f"<b>{title}</b>")
            column.addWidget(heading)
            column.addWidget(table)
            split.addWidget(box)
        split.setSizes([140, 240, 320])
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self.view: OnCallView | None = None
        self._task: asyncio.Task[None] | None = None
        bridge.alarm.connect(lambda _event: self.reload())
        self._timer = QTimer(self)
        self._timer.timeout.connect(lambda: self.reload() if self.isVisible() else None)
        self._timer.start(REFRESH_MS)

    def reload(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.load())

    async def load(self) -> None:
        self.show_view(await self.runtime.board.oncall())

    def show_view(self, view: OnCallView | None) -> None:
        selected = self._selected()
        self.view = view
        if view is None:
            self.status.setText(tr("Server unreachable: who is paged cannot be read now."))
            return
        if not view.configured:
            self.status.setText(tr("No on-call roster is configured on this site."))
        elif not view.paging:
            self.status.setText(tr("No escalation is configured: nobody is paged from this site."))
        else:
            down = [
                tr("{channel} down until {until}: pages go by the next channel").format(
                    channel=channel_word(name), until=when(until, self.zone)
                )
                for name, until in view.channels_down.items()
            ]
            waiting = len(view.open())
            paging = (
                tr("{n} incident(s) paging now").format(n=waiting) if waiting else tr("Nobody is paged now")
            )
            self.status.setText(" · ".join([paging, *down]))
        z = self.zone
        _fill(self.teams, [[t.name, t.now.person, when(t.now.end, z), t.next.person, when(t.next.start, z)]
                           for t in view.teams])  # fmt: skip
        french = i18n.language() == "fr"
        _fill(
            self.incidents,
            [[str(i.id), incident_word(i.state), when(i.opened_at, z),
              " · ".join(i.messages_fr if french else i.messages_en) or ", ".join(i.alarms), str(i.level + 1),
              (f"{i.acked_by} ({when(i.acked_at, z)})" if i.acked_by and i.acked_at else i.acked_by or "—"),
              next_step(i, z)] for i in view.incidents],
        )  # fmt: skip
        row = next((r for r, i in enumerate(view.incidents) if i.id == selected), 0 if view.incidents else -1)
        if row >= 0:
            self.incidents.selectRow(row)
        self._show_timeline()

    def _selected(self) -> int | None:
        rows = self.incidents.selectionModel().selectedRows()
        if not rows or self.view is None or rows[0].row() >= len(self.view.incidents):
            return None
        return self.view.incidents[rows[0].row()].id

    def _show_timeline(self) -> None:
        chosen = self._selected()
        incident = next((i for i in self.view.incidents if i.id == chosen), None) if self.view else None
        sent: tuple[Sent, ...] = incident.deliveries if incident else ()
        z = self.zone
        _fill(self.timeline, [[when(d.created_at, z), d.person, channel_word(d.channel), kind_word(d.kind),
                               str(d.level + 1), delivery_word(d.state), _why(d)] for d in sent])  # fmt: skip
