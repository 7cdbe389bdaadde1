"""A station whose tags are posted to the REST API (or by a script): an IoT probe, a gateway.

Nothing is dialled: the station counts as connected while values arrive within its
``expected_period_s``; when none has come for that long its tags get a loss marker and its
link alarm rises, exactly as when an OPC-UA station drops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from core.acquisition.link import SourceLink
from core.bus import Bus
from core.clock import Clock
from core.config.schema import Station, Tag
from core.model import ConnectionState, Sample

WAITING = "waiting for values posted to /api/v1/samples"


class ApiLink(SourceLink):
    """Watches what the API receives for one station's tags (``Runtime.ingest`` reports it)."""

    def __init__(self, station: Station, tags: Sequence[Tag], bus: Bus, clock: Clock | None = None) -> None:
        super().__init__(station, tags, bus, clock)
        self._arrived = asyncio.Event()

    def received_now(self, samples: Sequence[Sample]) -> None:
        """Posted ``samples`` of this station were stored: the probe is alive."""
        self.received += len(samples)
        for sample in samples:
            self._lost_at.pop(sample.tag, None)
            seen = self._last_seen.get(sample.tag)
            if seen is None or sample.ts > seen:
                self._last_seen[sample.tag] = sample.ts
        if self.state is not ConnectionState.CONNECTED:
            self.connections += 1
            self.set_state(ConnectionState.CONNECTED, "values arriving through the API", "api_receiving")
        self._arrived.set()

    async def run(self) -> None:
        period = self.station.expected_period_s
        self.set_state(ConnectionState.CONNECTING, WAITING, "api_waiting")
        while not self.stopped:
            self._arrived.clear()
            waiters = [asyncio.ensure_future(self._arrived.wait()), asyncio.ensure_future(self._stop.wait())]
            done, pending = await asyncio.wait(waiters, timeout=period, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
            if not done and self.state is ConnectionState.CONNECTED:
                self.mark_lost()
                self.set_state(ConnectionState.DISCONNECTED, f"no value posted for {period:g} s", "silent")
