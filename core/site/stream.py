"""The server's live event stream: what happens, numbered, so that no client misses any of it.

Every sample batch, station status and alarm transition gets a sequence number within the
server's *epoch* (a random id per run). The last events are kept in a ring; a client that
comes back with its epoch and its last sequence number gets exactly what it missed, in order,
then the live events. A client too far behind (or after a server restart: another epoch) gets a
snapshot of the whole picture (alarms, stations, latest values) instead, then the live events.
A client that cannot keep up is dropped rather than slowing the others; it reconnects the same
way. The web framework only carries the messages (``core.api.app``).

Memory is bounded by bytes, not by counts (a batch of 10,000 samples is one event): the ring
keeps at most ``ring_bytes`` of events (estimated as held in memory) and each client at most
``client_bytes`` of texts waiting for its socket; a client over its budget is dropped at once,
its waiting texts freed, and its connection closed with 1013 when the socket takes it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from core.alarms.engine import AlarmEngine
from core.bus import ALARMS, SAMPLES, STATION_STATUS, Bus
from core.model import AlarmEvent, Sample, StationStatus
from core.site.wire import Message, alarm_json, event_json, sample_json, station_json

_EVENT_BYTES = {"samples": 200, "station": 1_000, "alarm": 4_000}  # an event as held, without samples
_SAMPLE_BYTES = 160  # one Sample with its datetime and float (measured with tracemalloc)
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Filter:
    """Which stations' (and tags') events a client wants, and of which kinds (samples,
    station, alarm); empty means all. A desktop that reads its stations directly takes only
    the alarms."""

    stations: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()

    def keeps_kind(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def keeps_station(self, station: str) -> bool:
        return not self.stations or station in self.stations

    def keeps_tag(self, tag: str, station: str | None) -> bool:
        if self.tags:
            return tag in self.tags
        return station is None or self.keeps_station(station)


@dataclass
class _Event:
    seq: int
    kind: str  # samples, station, alarm
    body: Message
    station: str | None
    samples: Sequence[Sample] = ()

    @property
    def cost(self) -> int:
        """Bytes this event holds while in the ring (an estimate)."""
        return _EVENT_BYTES[self.kind] + _SAMPLE_BYTES * len(self.samples)


@dataclass(eq=False)  # each connection is its own, hashed by identity
class Subscriber:
    """One connected client: its filter and the texts waiting for its socket, within a budget.

    An empty text in the queue wakes the connection when the client is dropped."""

    filter: Filter
    budget: int = 8 * MIB
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)  # JSON texts
    queued_bytes: int = 0
    dropped: bool = False

    def offer(self, text: str) -> bool:
        """Queue ``text`` unless that would pass the budget."""
        if self.queued_bytes + len(text) > self.budget:
            return False
        self.queue.put_nowait(text)
        self.queued_bytes += len(text)
        return True

    async def next(self) -> str:
        """The next text to send ("" once dropped)."""
        text = await self.queue.get()
        self.queued_bytes -= len(text)
        return text

    def drop(self) -> None:
        self.dropped = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued_bytes = 0
        self.queue.put_nowait("")


class EventStream:
    """Numbers and keeps the runtime's events, and fans them out. Runs in the event loop."""

    def __init__(
        self,
        bus: Bus,
        engine: AlarmEngine,
        station_of: Callable[[str], str | None],
        snapshot: Callable[[Filter], Message],
        keep: int = 50_000,
        ring_bytes: int = 32 * MIB,
        client_bytes: int = 8 * MIB,
    ) -> None:
        self.epoch = secrets.token_hex(8)
        self.seq = 0
        self._ring: deque[_Event] = deque()
        self._keep, self._ring_budget, self._client_budget = keep, ring_bytes, client_bytes
        self.ring_bytes = 0
        self._engine = engine
        self._station_of = station_of
        self._snapshot = snapshot
        self._subscribers: set[Subscriber] = set()
        self.dropped = 0
        self._unsubscribe = [
            bus.subscribe(SAMPLES, self._on_samples),
            bus.subscribe(STATION_STATUS, self._on_station),
            bus.subscribe(ALARMS, self._on_alarm),
        ]

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    # -- numbering ------------------------------------------------------------------------

    def _add(self, kind: str, body: Message, station: str | None, samples: Sequence[Sample] = ()) -> None:
        self.seq += 1
        event = _Event(self.seq, kind, body, station, samples)
        self._ring.append(event)
        self.ring_bytes += event.cost
        while len(self._ring) > 1 and (self.ring_bytes > self._ring_budget or len(self._ring) > self._keep):
            self.ring_bytes -= self._ring.popleft().cost
        rendered: dict[Filter, str | None] = {}  # clients with the same filter share one text
        for subscriber in list(self._subscribers):
            wanted = subscriber.filter
            if wanted not in rendered:
                message = self._render(event, wanted)
                rendered[wanted] = None if message is None else json.dumps(message)
            text = rendered[wanted]
            if text is None:
                continue
            if not subscriber.offer(text):  # too slow: dropped, it will resume from its last number
                subscriber.drop()
                self.dropped += 1
                self._subscribers.discard(subscriber)

    def _on_samples(self, samples: Sequence[Sample]) -> None:
        self._add("samples", {}, None, tuple(samples))

    def _on_station(self, status: StationStatus) -> None:
        self._add("station", {"station": station_json(status)}, status.station)

    def _on_alarm(self, event: AlarmEvent) -> None:
        alarm = self._engine.alarms.get(event.alarm)
        station = alarm.station_id if alarm is not None else None
        body: Message = {"event": event_json(event)}
        if alarm is not None:
            body["alarm"] = alarm_json(alarm.view())
        self._add("alarm", body, station)

    def _render(self, event: _Event, wanted: Filter) -> Message | None:
        if not wanted.keeps_kind(event.kind):
            return None
        if event.kind == "samples":
            kept = [sample_json(s) for s in event.samples if wanted.keeps_tag(s.tag, self._station_of(s.tag))]
            return {"type": "samples", "seq": event.seq, "samples": kept} if kept else None
        if event.station is not None and not wanted.keeps_station(event.station):
            return None
        return {"type": event.kind, "seq": event.seq, **event.body}

    # -- clients --------------------------------------------------------------------------

    def subscribe(
        self, wanted: Filter, epoch: str | None, since: int | None
    ) -> tuple[Subscriber, list[Message]]:
        """Register a client; return it with what it must receive first, in order.

        With the current ``epoch`` and a ``since`` still in the ring: the events after it.
        Otherwise: a snapshot of the whole picture at the current number.
        """
        subscriber = Subscriber(wanted, self._client_budget)
        first: list[Message] = [{"type": "hello", "epoch": self.epoch, "seq": self.seq}]
        oldest = self._ring[0].seq if self._ring else self.seq + 1
        if epoch == self.epoch and since is not None and oldest - 1 <= since <= self.seq:
            first += [m for e in self._missed(since) if (m := self._render(e, wanted)) is not None]
        else:
            first.append({"type": "snapshot", "epoch": self.epoch, "seq": self.seq, **self._snapshot(wanted)})
        self._subscribers.add(subscriber)
        return subscriber, first

    def _missed(self, since: int) -> Iterable[_Event]:
        return (event for event in self._ring if event.seq > since)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def clients(self) -> int:
        return len(self._subscribers)

    @property
    def events(self) -> int:
        """Events in the ring."""
        return len(self._ring)

    @property
    def queued_bytes(self) -> int:
        """Texts waiting for the clients' sockets, all clients together."""
        return sum(s.queued_bytes for s in self._subscribers)
