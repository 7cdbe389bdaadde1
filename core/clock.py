"""Injected time (DESIGN rule 5): delays, shelving expiry and staleness never read the wall clock.

``LoopClock`` derives "now" from the event loop's own clock, so under a virtual-time loop
(looptime in tests) an eight-hour shelving expires in milliseconds, deterministically.
``ScenarioClock`` is a time-lapse's clock (the demo at ×60): the simulated stations stamp their
samples on it and the supervision runs on it, so rates, forecasts, delays and shelving behave as
on a real flood, only faster.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from core.model import utcnow


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    speed: float
    """Seconds of this clock per real second: 1 for a real site, 60 for the demo at ×60."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` after ``delay`` seconds; the returned timer can cancel it."""
        ...


class LoopClock:
    """Wall-clock time anchored once, then advanced by the running loop's clock."""

    speed = 1.0

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


class WallClock:
    """The system's clock as it is now, for comparing with other clocks (a station's)."""

    speed = 1.0

    def now(self) -> datetime:
        return utcnow()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)


class ScenarioClock:
    """A time-lapse's clock: from ``epoch``, ``speed`` simulated seconds pass per real second.

    Every process of one simulation (the stations, the supervision) derives it from the same
    epoch and the system clock, so they agree without talking to each other; ``call_later``
    waits ``delay`` simulated seconds, i.e. ``delay / speed`` real ones.
    """

    def __init__(self, epoch: datetime, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"a simulation's speed must be positive, not {speed}")
        self.epoch, self.speed = epoch.astimezone(UTC), float(speed)

    def now(self) -> datetime:
        real = time.time() - self.epoch.timestamp()
        return self.epoch + timedelta(seconds=real * self.speed)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(max(0.0, delay) / self.speed, callback)

    def __str__(self) -> str:
        """The form ``--simulation`` reads back: ``2026-12-03T14:00:00Z@60``."""
        return f"{self.epoch.strftime('%Y-%m-%dT%H:%M:%SZ')}@{self.speed:g}"

    @classmethod
    def parse(cls, text: str) -> ScenarioClock:
        """``EPOCH@SPEED`` (an ISO instant in UTC, then simulated seconds per real second)."""
        match = re.fullmatch(r"\s*(\S+?)@([0-9.]+)\s*", text)
        if match is None:
            raise ValueError(f"{text!r}: expected EPOCH@SPEED, e.g. 2026-12-03T14:00:00Z@60")
        try:
            epoch = datetime.fromisoformat(match[1].replace("Z", "+00:00"))
            speed = float(match[2])
        except ValueError as err:
            raise ValueError(f"{text!r}: {err}") from None
        if epoch.tzinfo is None:
            raise ValueError(f"{text!r}: the epoch needs its zone (Z for UTC)")
        return cls(epoch, speed)


async def pause(clock: Clock, seconds: float, *, real: bool = False) -> None:
    """Wait ``seconds`` of ``clock``'s time, or of real time when ``real`` (a transport's wait, a
    provider's back-off: a time-lapse does not make Twilio or Cassandra faster). Through the
    clock, so that a test's virtual time and a time-lapse both see it."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    delay = seconds * clock.speed if real else seconds
    timer = clock.call_later(delay, lambda: None if done.done() else done.set_result(None))
    try:
        await done
    finally:
        timer.cancel()


def started_now(speed: float) -> ScenarioClock:
    """A time-lapse starting now, to the second (its ``--simulation`` text is then exact)."""
    return ScenarioClock(datetime.fromtimestamp(int(time.time()), UTC), speed)
