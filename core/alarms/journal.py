"""The alarm journal's storage contract: every transition recorded, every alarm's state restorable.

On restart the engine reloads ``StoredAlarm`` rows so active alarms, their acknowledgement and
shelving come back exactly: none forgotten, none raised twice (DESIGN rule 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.model import AlarmEvent, AlarmStatus


@dataclass(frozen=True, slots=True)
class StoredAlarm:
    """What must survive a restart for one alarm."""

    alarm: str
    status: AlarmStatus
    active: bool
    since: datetime | None = None  # when it was last raised
    shelved_until: datetime | None = None
    ack_user: str = ""
    ack_ts: datetime | None = None
    raised_value: float | None = None  # what the alarm's messages name after a restart


class AlarmJournal(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Write everything recorded so far, then close."""

    def record(self, event: AlarmEvent, state: StoredAlarm) -> None:
        """Append ``event`` and replace the alarm's stored state, in order, without blocking."""

    async def flush(self) -> None:
        """Return once everything recorded so far is durable."""

    async def load(self) -> dict[str, StoredAlarm]: ...

    async def events(
        self, since: datetime, until: datetime, alarm: str | None = None, limit: int = 10_000
    ) -> list[AlarmEvent]:
        """Journal entries with ``since <= ts < until``, oldest first."""
        ...
