"""The alarm board: what a face (the desktop, a terminal) reads and where its commands go.

A standalone desktop, or the server itself, is its own authority: its board reads the local
engine, journal and historian and acts through the local operations surface. A desktop
connected to its site's server gets a :class:`core.client.remote.ServerBoard` instead, which reads the
server's picture and sends the commands to it. The faces do not care which: they read frozen
:class:`AlarmView` snapshots, listen for changes and await commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.alarms.engine import AlarmEngine
from core.alarms.journal import AlarmJournal
from core.alarms.view import AlarmView
from core.bus import ALARMS, Bus
from core.model import AlarmEvent, Bucket, CrestForecast, Quality, utcnow
from core.site.oncall import OnCallView
from core.site.operations import Actor, Operations
from core.storage.audit import ActiveMode
from core.storage.base import Historian

# Called with the event that changed the board, or None when the whole picture changed
# (the server came back, or could no longer be reached).
Listener = Callable[[AlarmEvent | None], None]


@dataclass(frozen=True, slots=True)
class Authority:
    """Where the board's truth comes from, as the banner and the status bar say it."""

    server: str | None  # the server's URL, None for a standalone process
    reachable: bool
    since: datetime
    detail: str = ""

    @property
    def local(self) -> bool:
        """True when the alarms shown are evaluated here (standalone, or the server is lost)."""
        return self.server is None or not self.reachable


class AlarmBoard(Protocol):
    def views(self) -> list[AlarmView]: ...

    def limits(self, tag_id: str) -> dict[str, float]:
        """The HH/H/L/LL limits the site's rules set on a tag (gauges and trends draw them)."""
        ...

    def crest(self, station: str) -> CrestForecast | None:
        """The dam's latest crest forecast (every role routes it from the live samples)."""
        ...

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...

    @property
    def authority(self) -> Authority: ...

    async def acknowledge(self, actor: Actor, alarm_id: str, comment: str = "") -> None: ...

    async def shelve(self, actor: Actor, alarm_id: str, reason: str, duration: timedelta) -> None: ...

    async def unshelve(self, actor: Actor, alarm_id: str, comment: str = "") -> None: ...

    async def reset(self, actor: Actor, alarm_id: str, comment: str = "") -> None: ...

    async def remove_from_service(self, actor: Actor, alarm_id: str, reason: str) -> None: ...

    async def return_to_service(self, actor: Actor, alarm_id: str, reason: str = "") -> None: ...

    async def modes(self) -> list[ActiveMode]: ...

    async def set_mode(self, actor: Actor, mode: str, station: str | None, on: bool, reason: str) -> None: ...

    async def journal(self, start: datetime, end: datetime, limit: int) -> list[AlarmEvent]: ...

    async def downsampled(self, tag: str, start: datetime, end: datetime, points: int) -> list[Bucket]: ...

    async def lost(self, tag: str, start: datetime, end: datetime) -> bool:
        """Whether the link was lost between ``start`` and ``end``: a loss marker was stored (a
        trend breaks its line there; a steady value with no sample for hours does not)."""
        ...

    async def oncall(self) -> OnCallView | None:
        """Who is on call and what the paging did and will do (None: the server cannot be read)."""
        ...


async def stored_loss(historian: Historian, tag: str, start: datetime, end: datetime) -> bool:
    """Whether ``historian`` holds a loss marker of ``tag`` in the range (see ``AlarmBoard.lost``)."""
    return any(s.quality is Quality.BAD for s in await historian.raw(tag, start, end, limit=10))


class LocalBoard:
    """This process is the authority: the engine, its journal and its historian."""

    def __init__(
        self,
        bus: Bus,
        engine: AlarmEngine,
        operations: Operations,
        journal: AlarmJournal,
        historian: Historian,
        oncall: Callable[[], OnCallView] | None = None,
    ) -> None:
        """``oncall()`` reads this process's own paging (``core.site.oncall``)."""
        self._bus, self._engine, self._operations = bus, engine, operations
        self._journal, self._historian = journal, historian
        self._oncall = oncall or (lambda: OnCallView(False))
        self._authority = Authority(None, True, utcnow())

    def views(self) -> list[AlarmView]:
        return self._engine.views()

    def limits(self, tag_id: str) -> dict[str, float]:
        return self._engine.limits(tag_id)

    def crest(self, station: str) -> CrestForecast | None:
        return self._engine.crest(station)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self._bus.subscribe(ALARMS, listener)

    @property
    def authority(self) -> Authority:
        return self._authority

    async def acknowledge(self, actor: Actor, alarm_id: str, comment: str = "") -> None:
        self._operations.acknowledge(actor, alarm_id, comment)

    async def shelve(self, actor: Actor, alarm_id: str, reason: str, duration: timedelta) -> None:
        self._operations.shelve(actor, alarm_id, reason, duration)

    async def unshelve(self, actor: Actor, alarm_id: str, comment: str = "") -> None:
        self._operations.unshelve(actor, alarm_id, comment)

    async def reset(self, actor: Actor, alarm_id: str, comment: str = "") -> None:
        self._operations.reset(actor, alarm_id, comment)

    async def remove_from_service(self, actor: Actor, alarm_id: str, reason: str) -> None:
        self._operations.remove_from_service(actor, alarm_id, reason)

    async def return_to_service(self, actor: Actor, alarm_id: str, reason: str = "") -> None:
        self._operations.return_to_service(actor, alarm_id, reason)

    async def modes(self) -> list[ActiveMode]:
        return self._operations.modes()

    async def set_mode(self, actor: Actor, mode: str, station: str | None, on: bool, reason: str) -> None:
        self._operations.set_mode(actor, mode, station, on, reason)

    async def journal(self, start: datetime, end: datetime, limit: int) -> list[AlarmEvent]:
        await self._journal.flush()
        return await self._journal.events(start, end, limit=limit)

    async def downsampled(self, tag: str, start: datetime, end: datetime, points: int) -> list[Bucket]:
        return await self._historian.downsampled(tag, start, end, points)

    async def lost(self, tag: str, start: datetime, end: datetime) -> bool:
        return await stored_loss(self._historian, tag, start, end)

    async def oncall(self) -> OnCallView | None:
        return self._oncall()
