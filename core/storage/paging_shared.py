"""The paging store of redundant servers: a local SQLite copy kept in step with Cassandra.

The cascade reads and writes the local copy, on the loop and at once, as on a single server
(paging goes on during a Cassandra outage). Every write is then forwarded, in order, to the
site's Cassandra tables from a worker thread; a write that fails waits there and is retried,
and forwarding an upsert twice gives the same rows. What two servers could race on is decided
in Cassandra:

- before a provider is called, ``reserve`` claims the delivery with an LWT: a delivery another
  server already claimed is never sent (while Cassandra cannot answer the page goes out anyway:
  a page twice is better than none in a flood, as with the lease);
- a follower never opens incidents or pages; it copies the leader's rows (``pull``) so that it
  can take over where the leader stopped, and an acknowledgement it receives (an SMS reply, an
  operator) moves the shared incident with an LWT, which the leader picks up (``taken_elsewhere``).

While Cassandra is away every server pages (fail-open) and keeps its record of what it sent.
When Cassandra returns each record is forwarded: a delivery that another server already put
on record under the same key (both paged the same person for the same incident) is kept beside
it, under ``<key>!<server>``, its detail saying it is a duplicate: the shared record shows every
message that left, from every server. ``fail_open_sends`` counts the pages sent unclaimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.model import AlarmEvent
from core.notify.store import (
    ACKED,
    EXHAUSTED,
    OPEN,
    Delivery,
    DeliveryState,
    Incident,
    IncidentState,
    PagedAlarm,
)
from core.storage.paging_cassandra import INCIDENT_WINDOW, CassandraPagingStore
from core.storage.paging_sqlite import SqlitePagingStore

_LOGGER = logging.getLogger(__name__)
_SETTLE_S = 3.0


class SharedPagingStore:
    """``PagingStore`` for a server that may lead or follow; see the module's docstring."""

    def __init__(self, local: SqlitePagingStore, shared: CassandraPagingStore, server: str = "") -> None:
        self.local, self.shared, self.server = local, shared, server or "server"
        self._unclaimed: set[str] = set()  # sent while Cassandra could not decide (fail-open)
        self._ours: set[str] = set()  # keys this server put on record first
        self._renamed: dict[str, str] = {}  # key -> our duplicate's key in Cassandra
        self.fail_open_sends = 0
        self._outbox: deque[Callable[[], Any]] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost: set[str] = set()  # delivery keys another server claimed first
        self._reserved: set[str] = set()  # delivery keys this server claimed in Cassandra
        self.forward_errors = 0
        self._warned = False
        self._stopping = False
        self._flushing: asyncio.Lock | None = None

    redundant = True

    def metrics(self) -> dict[str, float]:
        return {"backlog": self.backlog, "forward_errors": self.forward_errors,
                "fail_open_sends": self.fail_open_sends}  # fmt: skip

    # life cycle ---------------------------------------------------------------------------
    def open(self) -> None:
        self.local.open()

    def close(self) -> None:
        self.local.close()

    async def start(self) -> None:
        self._wake, self._flushing, self._stopping = asyncio.Event(), asyncio.Lock(), False
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.shared.open)
        self._task = asyncio.create_task(self._forwarding(), name="paging-forward")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None and self._wake is not None:
            self._wake.set()
            await asyncio.wait([self._task], timeout=10.0)
            self._task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 5.0)
        await asyncio.to_thread(self.shared.close)

    @property
    def backlog(self) -> int:
        """Writes not yet in Cassandra."""
        return len(self._outbox)

    # forwarding ---------------------------------------------------------------------------
    def _send(self, write: Callable[[], Any]) -> None:
        self._outbox.append(write)
        if self._wake is not None:
            self._wake.set()

    async def _connected(self) -> None:
        if not self.shared.is_open:
            await asyncio.to_thread(self.shared.open)

    async def flush(self) -> None:
        """Forward every waiting write, oldest first; raises if Cassandra cannot take one."""
        assert self._flushing is not None, "start() the shared paging store first"
        async with self._flushing:  # one forwarder at a time: the outbox is written in order
            if self._outbox:
                await self._connected()
            while self._outbox:
                await asyncio.to_thread(self._outbox[0])
                self._outbox.popleft()

    async def _forwarding(self) -> None:
        assert self._wake is not None
        pause = 0.5
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=pause)
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self.flush()
                if self._warned:
                    _LOGGER.warning("paging store: Cassandra is back, every waiting write forwarded")
                self._warned, pause = False, 0.5
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self.forward_errors += 1
                if not self._warned:
                    _LOGGER.error("paging store: Cassandra unreachable (%s); %d writes wait, paging goes on "
                                  "from the local copy", err, len(self._outbox))  # fmt: skip
                    self._warned = True
                pause = min(pause * 2, 10.0)

    # incidents: local first, then forwarded ----------------------------------------------
    def open_incident(self, policy: str, at: datetime) -> Incident:
        incident = self.local.open_incident(policy, at)
        copy = replace(incident)

        def write() -> None:
            self.shared.reserve_ids(copy.id)
            self.shared.put_incident(copy)

        self._send(write)
        return incident

    def save(self, incident: Incident) -> None:
        self.local.save(incident)
        copy = replace(incident)
        self._send(lambda: self.shared.put_incident(copy))

    def acknowledge(self, incident: Incident, by: str, at: datetime) -> None:
        """A follower's acknowledgement: here at once, in Cassandra with an LWT, for the leader."""
        incident.state, incident.acked_by, incident.acked_at = ACKED, by, at
        self.local.save(incident)
        ident = incident.id
        self._send(lambda: self.shared.acknowledge_open(ident, by, at))

    def incident(self, incident_id: int) -> Incident | None:
        return self.local.incident(incident_id)

    def incidents(self, *states: IncidentState) -> list[Incident]:
        return self.local.incidents(*states)

    def recent(self, limit: int = 100) -> list[Incident]:
        return self.local.recent(limit)

    def add_alarm(self, incident: int, event: AlarmEvent) -> None:
        self.local.add_alarm(incident, event)
        self._send(lambda: self.shared.add_alarm(incident, event))

    def set_alarm_active(self, incident: int, alarm: str, active: bool) -> None:
        self.local.set_alarm_active(incident, alarm, active)
        self._send(lambda: self.shared.set_alarm_active(incident, alarm, active))

    def alarms(self, incident: int) -> list[PagedAlarm]:
        return self.local.alarms(incident)

    def incidents_of(self, alarm: str, *states: IncidentState) -> list[Incident]:
        return self.local.incidents_of(alarm, *states)

    # deliveries ---------------------------------------------------------------------------
    def claim(self, delivery: Delivery) -> bool:
        return self.local.claim(delivery)

    async def reserve(self, delivery: Delivery) -> bool:
        """Claim ``delivery`` in Cassandra before its provider is called; False if another server
        has it (it is then never sent from here). The local claim is made durable first."""
        await self.local.reserve(delivery)
        try:
            await self._connected()
            won = await asyncio.to_thread(self.shared.claim, replace(delivery))
        except Exception as err:
            _LOGGER.error("paging store: cannot claim %s in Cassandra (%s); sent anyway", delivery.key, err)
            self.fail_open_sends += 1
            self._unclaimed.add(delivery.key)
            return True
        (self._reserved if won else self._lost).add(delivery.key)
        return won

    def update(self, delivery: Delivery) -> None:
        self.local.update(delivery)
        key, copy = delivery.key, replace(delivery)
        if key in self._lost:
            return
        if key in self._reserved:
            self._send(lambda: self.shared.update(copy))
        else:  # never reserved (a channel down, Cassandra away when sent): written as it is now
            self._send(lambda: self._record(copy))

    def _record(self, delivery: Delivery) -> None:
        """Forward a delivery that was not claimed in Cassandra before it left (worker thread)."""
        key = delivery.key
        if key in self._renamed:
            self.shared.put_delivery(replace(delivery, key=self._renamed[key],
                                             detail=_duplicate(delivery.detail)), [])  # fmt: skip
        elif key in self._ours or self.shared.claim(delivery):
            self._ours.add(key)
            self.shared.update(delivery)
        elif key in self._unclaimed:  # another server sent it too while Cassandra was away
            twin = f"{key}!{self.server}"
            self._renamed[key] = twin
            self.shared.put_delivery(replace(delivery, key=twin, detail=_duplicate(delivery.detail)), [])
            _LOGGER.warning("paging store: %s was sent by another server too while Cassandra was away; "
                            "on record as %s", key, twin)  # fmt: skip
        else:
            self.shared.update(delivery)

    def delivery(self, key: str) -> Delivery | None:
        return self.local.delivery(key)

    def deliveries(self, incident: int | None = None, *states: DeliveryState) -> list[Delivery]:
        return self.local.deliveries(incident, *states)

    def attempt(self, key: str, at: datetime, outcome: str, detail: str) -> None:
        self.local.attempt(key, at, outcome, detail)
        if key not in self._lost:  # a duplicate's attempts go with it (decided, in order, by then)
            self._send(lambda: self.shared.attempt(self._renamed.get(key, key), at, outcome, detail))

    def attempts(self, key: str | None = None) -> list[tuple[str, datetime, str, str]]:
        return self.local.attempts(key)

    def first_time(self, token: str, at: datetime) -> bool:
        return self.local.first_time(token, at)

    # following the leader -----------------------------------------------------------------
    async def pull(self) -> int:
        """Copy the leader's rows from Cassandra into the local copy; how many incidents changed.

        Called by a follower now and then, and by a new leader before it pages (after forwarding
        its own waiting writes, so nothing of its own is overwritten by an older copy). Cassandra
        is read from a worker thread, the local file written on the loop (SQLite's rule)."""
        await self._connected()
        await self.flush()
        theirs = await asyncio.to_thread(self.shared.recent, INCIDENT_WINDOW)
        mine = {i.id: i for i in self.local.recent(INCIDENT_WINDOW)}
        changed = [i for i in reversed(theirs) if mine.get(i.id) != i]
        live = [i for i in reversed(theirs) if i.state in (OPEN, ACKED, EXHAUSTED) or i in changed]
        details = await asyncio.to_thread(self._details, [i.id for i in live])
        for incident in live:
            if incident in changed:
                self.local.put_incident(incident)
            alarms, deliveries = details[incident.id]
            if alarms != self.local.alarms(incident.id):
                self.local.put_alarms(incident.id, alarms)
            for delivery, attempts in deliveries:
                key = delivery.key
                if delivery != self.local.delivery(key) or attempts != self.local.attempts(key):
                    self.local.put_delivery(delivery, attempts)
        return len(changed)

    def _details(self, incidents: list[int]) -> dict[int, tuple[list[Any], list[tuple[Delivery, list[Any]]]]]:
        """Each incident's alarms and deliveries with their attempts, read from Cassandra."""
        return {
            ident: (
                self.shared.alarms(ident),
                [(d, self.shared.attempts(d.key)) for d in self.shared.deliveries(ident)],
            )
            for ident in incidents
        }

    async def current(self, incident_id: int) -> Incident | None:
        """Cassandra's row when another server acknowledged the incident (read with the
        driver's timeout); the local copy otherwise, or while Cassandra cannot answer."""
        mine = self.local.incident(incident_id)
        try:
            await self._connected()
            theirs = await asyncio.to_thread(self.shared.incident, incident_id)
        except Exception as err:
            _LOGGER.warning("paging store: incident %s not read from Cassandra (%s): sent from what "
                            "this server knows", incident_id, err)  # fmt: skip
            return mine
        if mine is not None and theirs is not None and theirs.state == ACKED and mine.state != ACKED:
            return theirs
        return mine

    async def settled(self) -> None:
        """Forward what waits (this server's acknowledgement first of all) before the answer;
        at most ``_SETTLE_S``: while Cassandra is away the write waits and paging goes on."""
        try:
            await asyncio.wait_for(self.flush(), _SETTLE_S)
        except Exception as err:
            _LOGGER.warning("paging store: not yet in Cassandra (%s); forwarded when it answers", err)

    async def taken_elsewhere(self) -> list[Incident]:
        """Incidents open here that another server has marked acknowledged in Cassandra."""
        mine = [i.id for i in self.local.incidents(OPEN, EXHAUSTED)]
        if not mine:
            return []
        await self._connected()
        theirs = await asyncio.to_thread(lambda: [self.shared.incident(ident) for ident in mine])
        return [i for i in theirs if i is not None and i.state == ACKED]


def _duplicate(detail: str) -> str:
    return f"duplicate: also sent by another server while Cassandra was unreachable; {detail}"
