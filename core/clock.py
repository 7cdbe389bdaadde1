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

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._origin_wall = utcnow()
        self._origin_loop = self._loop.time()

    def now(self) -> datetime:
        return self._origin_wall + timedelta(seconds=self._loop.time() - self._origin_loop)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self._loop.call_later(max(0.0, delay), callback)
