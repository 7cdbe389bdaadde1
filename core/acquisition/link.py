"""What every source of samples shares, whatever it speaks: a state, counters, loss markers.

An OPC-UA station (``opcua.py``), an MQTT broker's topics (``mqtt.py``), tags posted to the API
(``api.py``) and a plugin's source all publish the same things on the bus: batches of samples,
a loss marker (bad quality, "no communication") for every tag when the link is lost, and a
:class:`StationStatus` at each change of state. Alarms, the historian and every screen therefore
treat them alike: a stale tag, a lost link and a bad value mean the same on each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

from core.acquisition.plausible import bounds_of, judged
from core.bus import BACKFILL, SAMPLES, STATION_STATUS, Bus
from core.clock import Clock, WallClock
from core.config.schema import Station, Tag
from core.model import ConnectionState, Quality, Sample, StationStatus

BAD_NO_COMMUNICATION = 0x80310000
BAD_TYPE_MISMATCH = 0x80740000
TICK = timedelta(microseconds=1)

_LOGGER = logging.getLogger(__name__)


def failure(err: BaseException) -> str:
    """Why a link failed, as words.yaml's ``outage`` section says it to a person."""
    if isinstance(err, ConnectionRefusedError):
        return "refused"
    if isinstance(err, TimeoutError):
        return "timeout"
    if isinstance(err, ConnectionError):
        return "lost"
    if isinstance(err, OSError):
        return "unreachable"
    return "failed"


class SourceLink:
    """One station's source of samples; subclasses implement :meth:`run` (forever, until stopped).

    The plugin surface (``docs/PLUGINS.md``, pinned by ``tests/unit/test_plugin_surface.py``):
    ``run``, ``publish``, ``mark_lost``, ``set_state``, ``reject``, ``stopped``, ``pause``,
    ``until_stopped``, ``station_now`` and the counters. Underscored members are the links' own.
    """

    # how long a batch gathers before it goes out: 0 sends it once the loop has nothing else ready;
    # a source whose library hands over one message per loop turn (MQTT) waits a few milliseconds
    # so that the historian and the alarm engine get batches, not single samples, in a burst
    batch_window_s = 0.0

    def __init__(self, station: Station, tags: Sequence[Tag], bus: Bus, clock: Clock | None = None) -> None:
        self.station = station
        self.tags = list(tags)
        self.bus = bus
        self.clock: Clock = clock or WallClock()
        self.endpoint = station.endpoint or ""
        self.state = ConnectionState.DISCONNECTED
        self.detail = ""
        self.reason = ""  # the outage section's entry that says why to a person
        self.fault: str | None = None  # why a person must act: authentication, secret…
        self.clock_skew_s: float | None = None
        self.received = 0
        self.backfilled = 0
        self.rejected = 0  # values that could not be read (a bad payload): counted in /metrics
        self.connections = 0
        self.restamped = 0
        self.retry_in = 0.0
        self._last_seen: dict[str, datetime] = {}
        self._lost_at: dict[str, datetime] = {}  # per tag: the loss marker published
        self._pending: list[Sample] = []
        self._late: list[Sample] = []  # older than their tag's loss marker: for the history only
        self._flush_scheduled = False
        # the historian's submit, set by the runtime: a source that confirms delivery (MQTT's
        # acknowledgements) stores its batches itself and confirms once they are stored
        self.store: Callable[[Sequence[Sample]], asyncio.Future[None]] | None = None
        self._warned: set[str] = set()
        self._bounds = bounds_of(self.tags)
        # how old a sample may be and still be kept (set by the runtime from storage.retention_days)
        self.retention: timedelta | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the link in the background (call from the event loop)."""
        self._task = asyncio.create_task(self._guarded(), name=f"station-{self.station.id}")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        self._flush()
        self.set_state(ConnectionState.STOPPED, "stopped", "stopped")

    async def run(self) -> None:
        raise NotImplementedError

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called: :meth:`run` should return."""
        return self._stop.is_set()

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds`` (a back-off before the next try), or less if the link is stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def until_stopped(self, *work: Coroutine[Any, Any, Any]) -> Any:
        """Run ``work`` until the first of them ends or the link is stopped; cancel the rest.

        Returns what the first to end returned (None when stopped first); its exception is raised.
        """
        stop = asyncio.ensure_future(self._stop.wait())
        tasks = [asyncio.ensure_future(item) for item in work]
        try:
            done, _ = await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stop, *tasks):
                task.cancel()
        ended = [task for task in tasks if task in done]
        await asyncio.gather(*(task for task in tasks if task not in done), stop, return_exceptions=True)
        return ended[0].result() if ended else None

    async def _guarded(self) -> None:
        """A source that raises (a plugin's bug) stops alone, said in the log and on its screens."""
        try:
            await self.run()
        except Exception as err:
            _LOGGER.exception("station %s: its %s source stopped", self.station.id, self.station.source)
            self.mark_lost()
            self.set_state(
                ConnectionState.DISCONNECTED, f"source failed: {type(err).__name__}: {err}", "failed"
            )

    def station_now(self) -> datetime:
        return self.clock.now()

    # -- samples --------------------------------------------------------------------------

    def publish(self, sample: Sample) -> None:
        """Queue ``sample``; the batch goes out once the loop has nothing else ready.

        A value older than the loss marker of its tag (a broker's queue delivered after an
        outage) goes to the historian only: the marker stays the latest word until a newer value.
        """
        sample = judged(sample, self._bounds.get(sample.tag))  # out of range: uncertain; impossible: bad
        lost = self._lost_at.get(sample.tag)
        if lost is not None and sample.ts <= lost:
            self._late.append(sample)
        else:
            if lost is not None:
                del self._lost_at[sample.tag]
            seen = self._last_seen.get(sample.tag)
            if seen is None or sample.ts > seen:
                self._last_seen[sample.tag] = sample.ts
            self._pending.append(sample)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop = asyncio.get_running_loop()
            if self.batch_window_s:
                loop.call_later(self.batch_window_s, self._flush)
            else:
                loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        live, late = self._pending, self._late
        self._pending, self._late = [], []
        self.received += len(live)
        self.backfilled += len(late)
        self.hand_over(live, late)

    def hand_over(self, live: list[Sample], late: list[Sample]) -> None:
        """Publish a batch: live samples for alarms and views, late ones for the history only."""
        if late:
            self.bus.publish(BACKFILL, late)
        if live:
            self.bus.publish(SAMPLES, live)

    def mark_lost(self) -> None:
        """The link is gone: every tag's last value is no longer trustworthy (once per loss)."""
        self._flush()
        now, markers = self.station_now(), []
        for tag in self.tags:
            if tag.id in self._lost_at:
                continue
            seen = self._last_seen.get(tag.id)
            ts = now if seen is None else max(now, seen + TICK)
            self._lost_at[tag.id] = ts
            markers.append(Sample(tag.id, ts, math.nan, Quality.BAD, None, BAD_NO_COMMUNICATION))
        if markers:
            self.bus.publish(SAMPLES, markers)

    def reject(self, key: str, message: str) -> None:
        """Count a value that cannot be read; the first of each kind is logged with where it came from."""
        self.rejected += 1
        if key not in self._warned:
            self._warned.add(key)
            _LOGGER.error(
                "station %s: %s; rejected (further ones are counted in /metrics)", self.station.id, message
            )

    # -- state ----------------------------------------------------------------------------

    def set_state(self, state: ConnectionState, detail: str, reason: str = "") -> None:
        """Say the link's state and why: ``detail`` as the log says it (technical), ``reason`` as
        a person reads it (an entry of words.yaml's ``outage``); a repeat says nothing."""
        if state is self.state and detail == self.detail:
            return
        self.state, self.detail, self.reason = state, detail, reason
        if state is ConnectionState.CONNECTED:
            self.fault = None
        self.publish_status()

    def publish_status(self) -> None:
        """Publish the link's state as it is now (also when only the station's clock changed)."""
        self.bus.publish(
            STATION_STATUS,
            StationStatus(
                self.station.id,
                self.state,
                self.clock.now(),
                self.detail,
                self.fault,
                self.clock_skew_s,
                self.reason,
            ),
        )
