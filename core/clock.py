"""Injected time (DESIGN rule 5): delays, shelving expiry and staleness never read the wall clock.

``LoopClock`` derives "now" from the event loop's own clock, so under a virtual-time loop
(looptime in tests) an eight-hour shelving expires in milliseconds, deterministically.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from core.model import utcnow


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` after ``delay`` seconds; the returned timer can cancel it."""
        ...


class LoopClock:
    """Wall-clock time anchored once, then advanced by the running loop's clock."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._origin_wall = utcnow()
        self._origin_loop = 0.0

    def _running(self) -> asyncio.AbstractEventLoop:
        """The loop, bound on first use (the clock may be built before the loop runs)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._origin_wall, self._origin_loop = utcnow(), self._loop.time()
        return self._loop

    def now(self) -> datetime:
        return self._origin_wall + timedelta(seconds=self._running().time() - self._origin_loop)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self._running().call_later(max(0.0, delay), callback)
