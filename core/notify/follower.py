"""Redundant servers: what the cascade does while another server leads, and when it takes over.

Only the leader (``core.storage.lease``) pages. A follower opens no incident and sends nothing:
it keeps the alarms it saw raised that would page, copies the leader's incidents from the shared
store every ``SYNC_S``, and passes the acknowledgements it receives to the leader through the
same rows. On taking over it copies where the old leader stopped, then pages, never twice, what
nobody paged, late levels at once (the escalation runs from when the follower saw the alarm).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from core.clock import Clock, pause
from core.config.notify import Policy
from core.model import AlarmAction, AlarmEvent
from core.notify.outbox import Outbox
from core.notify.store import ACKED, EXHAUSTED, OPEN, Incident, PagingStore

_LOGGER = logging.getLogger(__name__)

SYNC_S = 2.0  # how often redundant servers look at each other's rows in the shared store
# alarm events that mean an operator has taken charge, and the words the incident keeps
TAKEN = {
    AlarmAction.ACKNOWLEDGED: "",
    AlarmAction.SHELVED: " (shelved)",
    AlarmAction.REMOVED: " (out of service)",
}
# incidents a person can still take charge of: paging, or paged to the end with nobody answering
TAKEABLE = (OPEN, EXHAUSTED)


class Escalation(Protocol):
    """What the follower needs of the cascade it stands in for."""

    store: PagingStore
    outbox: Outbox

    def route(self, event: AlarmEvent) -> Policy | None: ...

    def raised(self, event: AlarmEvent, seen: datetime | None = None) -> None: ...

    def taken(self, incident: Incident, user: str, at: datetime) -> None: ...

    def tick(self) -> None: ...


class Follower:
    def __init__(
        self,
        cascade: Escalation,
        clock: Clock,
        leading: Callable[[], bool],
        acknowledge: Callable[[str, str, str], bool],
    ) -> None:
        self.cascade, self.store, self.clock = cascade, cascade.store, clock
        self._leading, self._acknowledge = leading, acknowledge
        self.unpaged: dict[str, tuple[AlarmEvent, datetime]] = {}  # raised while following
        self.catching_up = False

    def on_alarm(self, event: AlarmEvent) -> None:
        """Keep what this server would page, and pass acknowledgements to the leader."""
        if event.action == AlarmAction.RAISED:
            if self.cascade.route(event) is not None:
                self.unpaged[event.alarm] = (event, self.clock.now())
            return
        if event.action in TAKEN or event.action == AlarmAction.RETURNED or not event.active:
            self.unpaged.pop(event.alarm, None)
        if event.action in TAKEN:
            for incident in self.store.incidents_of(event.alarm, *TAKEABLE):
                self.store.acknowledge(incident, (event.user or "?") + TAKEN[event.action], event.ts)

    async def catch_up(self) -> None:
        """Copy where the old leader stopped, then page, never twice, what nobody paged."""
        self.catching_up = True
        try:
            changed = await self.store.pull()
            carried = len(self.store.incidents(OPEN))
            _LOGGER.warning("leading: %d open incident(s) carried on from the shared store (%d rows newer "
                            "than this server's copy)", carried, changed)  # fmt: skip
        except Exception as err:  # Cassandra away: page from what this server knows
            _LOGGER.error("leading without the shared store's latest rows (%s)", err)
        finally:
            self.catching_up = False
        if self._leading():
            self.cascade.outbox.recover()  # what the old leader's crash interrupted
            self.page_unpaged()
            self.cascade.tick()

    def page_unpaged(self) -> None:
        """Alarms this server saw raised while following and no incident holds."""
        unpaged, self.unpaged = self.unpaged, {}
        for alarm, (event, seen) in unpaged.items():
            if not self.store.incidents_of(alarm, OPEN, ACKED):
                self.cascade.raised(event, seen)

    async def syncing(self) -> None:
        """A follower copies the leader's rows; the leader takes the acknowledgements that
        reached a follower."""
        while True:
            await pause(self.clock, SYNC_S, real=True)
            try:
                if self.catching_up:
                    continue
                if self._leading():
                    await self._take_acknowledgements()
                else:
                    await self._copy_leader()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                _LOGGER.warning("paging store: sync with the other servers postponed (%s)", err)

    async def _copy_leader(self) -> None:
        was_open = {i.id for i in self.store.incidents(OPEN)}
        await self.store.pull()
        for incident in self.store.incidents(ACKED):
            if incident.id in was_open:  # acknowledged at the leader: in this server's list too
                self.acknowledge_alarms(incident, incident.acked_by or "?")
        for alarm in [a for a in self.unpaged if self.store.incidents_of(a, OPEN, ACKED)]:
            del self.unpaged[alarm]  # the leader has it

    async def _take_acknowledgements(self) -> None:
        for theirs in await self.store.taken_elsewhere():
            self.taken_elsewhere(theirs)

    def taken_elsewhere(self, theirs: Incident) -> None:
        """Another server accepted an acknowledgement: take the incident here too."""
        mine = self.store.incident(theirs.id)
        if mine is None or mine.state not in TAKEABLE or not self._leading():
            return
        by = theirs.acked_by or "?"
        self.cascade.taken(mine, by, theirs.acked_at or self.clock.now())
        self.acknowledge_alarms(mine, by)

    def acknowledge_alarms(self, incident: Incident, by: str) -> None:
        for paged in self.store.alarms(incident.id):
            self._acknowledge(paged.alarm, by, f"OK {incident.code} (on another server)")
