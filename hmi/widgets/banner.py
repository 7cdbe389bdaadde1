"""The alarm banner, on top of every view: the most urgent unacknowledged alarm, the count per
priority, the horn and one-click acknowledgement.

It blinks only while something is unacknowledged and stops on acknowledgement; the blink changes
the border's colour, never its width, so nothing below it moves under the pointer. Its buttons
take no keyboard focus: Space must never acknowledge (Ctrl+F4 or a click does).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from core.model import AlarmAction, AlarmEvent, Priority
from core.runtime import Runtime
from core.site.operations import Actor, Command, OperationError
from hmi import i18n
from hmi.i18n import tr
from hmi.style import PRIORITY_COLOUR, PRIORITY_SHAPE
from hmi.tasks import later
from hmi.views.alarms import ACK_SHORTCUT
from hmi.views.overview import priority_word
from hmi.widgets.horn import Horn

BLINK_BORDER_PX = 3  # one width, blinking or not


class AlarmBanner(QFrame):
    """Always visible: the most urgent unacknowledged alarm, counts, one-click acknowledge."""

    refused = Signal(str)  # why an acknowledgement from the banner was not carried

    def __init__(
        self, runtime: Runtime, actor: Callable[[], Actor], play: Callable[[], None] | None = None
    ) -> None:
        super().__init__()
        self.setObjectName("banner")
        self.runtime, self.actor = runtime, actor
        self.message = QLabel()
        self.message.setObjectName("title")
        self.counts = QLabel()
        # Ctrl+F4 everywhere (F4 alone acknowledges the list's selection); never Space: a button
        # with keyboard focus takes Space, and two presses after a click on a card acknowledged a
        # critical alarm by accident. The banner's buttons answer the mouse and their shortcut only.
        self.ack = QPushButton(tr("Acknowledge") + f" (Ctrl+{ACK_SHORTCUT})")
        self.ack.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.ack.clicked.connect(self.acknowledge_top)
        self.horn = Horn(lambda: self.top_id is not None, play)
        self.silence = QPushButton(tr("Mute horn"))
        self.silence.setToolTip(tr("Silent until the next new alarm"))
        self.silence.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.silence.clicked.connect(self.mute)
        layout = QHBoxLayout(self)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.counts)
        layout.addWidget(self.silence)
        layout.addWidget(self.ack)
        self._blink_on = False
        self._blink = QTimer(self)
        self._blink.setInterval(700)
        self._blink.timeout.connect(self._toggle)
        self.top_id: str | None = None
        self.colour = "palette(mid)"
        self.setStyleSheet(f"QFrame#banner {{ border: {BLINK_BORDER_PX}px solid palette(mid); }}")
        self.refresh()

    def refresh(self) -> None:
        alarms = self.runtime.board.views()
        unacked = [a for a in alarms if a.unacknowledged]
        counts = {p: sum(1 for a in alarms if a.priority is p) for p in Priority}
        self.counts.setText(
            "   ".join(f"{PRIORITY_SHAPE[p]} {priority_word(p)} {n}" for p, n in counts.items() if n)
        )
        if unacked:
            top = unacked[0]
            self.top_id = top.id
            local = f" [{tr('local')}]" if top.local else ""
            self.message.setText(f"{PRIORITY_SHAPE[top.priority]} {top.message(i18n.language())}{local}")
            self.colour = PRIORITY_COLOUR[top.priority].name()
            self.ack.setEnabled(self.actor().may(Command.ACKNOWLEDGE))
            if not self._blink.isActive():
                self._blink.start()
        else:
            self.top_id = None
            self.message.setText(tr("No unacknowledged alarm") if alarms else tr("No alarm"))
            self.ack.setEnabled(False)
            self._blink.stop()
            self._blink_on = False
            self.setStyleSheet(f"QFrame#banner {{ border: {BLINK_BORDER_PX}px solid palette(mid); }}")
        self.horn.update()
        self.silence.setEnabled(self.horn.sounding)

    def on_event(self, event: AlarmEvent | None) -> None:
        """Any alarm change refreshes the banner; a newly raised alarm lifts a mute of the horn."""
        if event is not None and event.action == AlarmAction.RAISED:
            self.horn.muted = False
        self.refresh()

    def mute(self) -> None:
        self.horn.mute()
        self.silence.setEnabled(False)

    def _toggle(self) -> None:
        """The border changes colour, never width: the window must not move under the pointer."""
        self._blink_on = not self._blink_on
        colour = self.colour if self._blink_on else "palette(mid)"
        self.setStyleSheet(f"QFrame#banner {{ border: {BLINK_BORDER_PX}px solid {colour}; }}")

    def acknowledge_top(self) -> asyncio.Future[None] | None:
        """Acknowledge the alarm shown (through the board: this process or the server)."""
        if self.top_id is None or not self.actor().may(Command.ACKNOWLEDGE):
            return None
        return later(self._acknowledge(self.top_id))

    async def _acknowledge(self, alarm_id: str) -> None:
        try:
            await self.runtime.board.acknowledge(self.actor(), alarm_id, tr("from the banner"))
        except OperationError as err:
            why = err.text(i18n.language())
            self.message.setToolTip(why)
            self.refused.emit(why)

    @property
    def blinking(self) -> bool:
        return self._blink.isActive()
