"""The read model of alarms: frozen snapshots that every face (desktop, API, pages) reads.

The engine's ``Alarm`` is mutable, holds timers and evaluators, and changes under a view's feet;
faces get an :class:`AlarmView` instead, taken at one instant, and act through
``core.site.operations``. A desktop connected to a server builds the same views from the server's
answers, so the views do not care where an alarm was evaluated (``local`` says it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.model import AlarmStatus, Priority

UNACKNOWLEDGED = (AlarmStatus.UNACK, AlarmStatus.RTN_UNACK)


@dataclass(frozen=True, slots=True)
class AlarmView:
    """One alarm as an operator sees it, at one instant."""

    id: str
    tag: str  # a tag id, or a station id for station alarms
    station: str  # the station's id (alarm keys never use display names)
    station_name: str
    kind: str  # HHH, HH, H, L, LL, rate, forecast, stale, quality, discrete, communication, access, clock
    priority: Priority
    status: AlarmStatus
    active: bool
    value: float | None  # the value now
    raised_value: float | None  # the value that raised it
    limit: float | None
    since: datetime | None
    acknowledged_by: str
    acknowledged_at: datetime | None
    shelved_by: str
    shelved_reason: str
    shelved_until: datetime | None
    message_fr: str
    message_en: str
    local: bool = False  # evaluated by this desktop while its server could not be reached

    @property
    def unacknowledged(self) -> bool:
        return self.status in UNACKNOWLEDGED

    def message(self, language: str) -> str:
        return self.message_fr if language == "fr" else self.message_en


def annunciation_order(view: AlarmView) -> tuple[bool, int, float]:
    """Most urgent and unacknowledged first, then newest."""
    return (not view.unacknowledged, int(view.priority), -(view.since.timestamp() if view.since else 0.0))
