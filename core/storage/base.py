"""The historian contract that every storage backend fulfils.

Every backend passes the same parametrized suite (``tests/integration/test_historian_contract``),
so the runtime, the API and the HMI never know which one they talk to.

Contract, in words:
- ``submit`` never blocks the event loop; the returned future resolves once the samples are
  durable (committed), so an API can acknowledge a client only then.
- Writing the same (tag, ts) twice keeps one sample: backfill after a reconnection and client
  retries can never create duplicates.
- Downsampled queries aggregate only good and uncertain values; bad-quality markers (value NaN,
  stored as missing) stay visible in raw queries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from core.model import Bucket, Sample, to_us


class StorageError(Exception):
    """The historian could not do what was asked; the message says what and where."""


DISK_FULL, WRITE_FAILED = "disk_full", "write_failed"  # why writes fail (``words`` refusal section)


class HistorianDown(StorageError):
    """Writes fail for now (``reason``: disk full, or any other write error); they resume by
    themselves when the cause goes: the caller says "not stored, retry", never "stored"."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def write_failure(err: Exception) -> str:
    """``DISK_FULL`` when the file system (or a size limit) refused to grow the file."""
    code = getattr(err, "sqlite_errorcode", None)
    if code == 13 or "full" in str(err).lower():  # SQLITE_FULL, or ENOSPC spelled by the OS
        return DISK_FULL
    return WRITE_FAILED


@runtime_checkable
class Historian(Protocol):
    """Time-series storage of samples, whatever the backend."""

    async def start(self) -> None:
        """Open the store, creating or migrating its schema."""

    async def stop(self) -> None:
        """Flush everything submitted, then close."""

    @property
    def writable(self) -> bool:
        """Whether a write submitted now can succeed (for readiness probes)."""
        ...

    def submit(self, samples: Sequence[Sample]) -> asyncio.Future[None]:
        """Queue ``samples`` for writing; the future resolves when they are durable."""
        ...

    async def write(self, samples: Sequence[Sample]) -> None:
        """Write ``samples`` and return once they are durable."""

    async def raw(self, tag: str, start: datetime, end: datetime, limit: int | None = None) -> list[Sample]:
        """Samples of ``tag`` with ``start <= ts < end``, oldest first."""
        ...

    async def downsampled(self, tag: str, start: datetime, end: datetime, max_points: int) -> list[Bucket]:
        """At most ``max_points`` buckets of min/max/avg/last over ``[start, end)``."""
        ...

    async def latest(self, tag: str) -> Sample | None:
        """The most recent sample of ``tag``, whatever its quality."""
        ...

    async def last_good_timestamp(self, tag: str) -> datetime | None:
        """Source time of the newest good or uncertain sample (where a backfill starts)."""
        ...

    async def purge(self, before: datetime) -> int:
        """Delete samples older than ``before`` in small steps; return how many went."""
        ...


MINUTE_US, HOUR_US, DAY_US = 60_000_000, 3_600_000_000, 86_400_000_000


def query_span(start: datetime, end: datetime, max_points: int) -> tuple[int, int] | None:
    """``[start, end)`` in µs for a downsampled query, or None when it is empty."""
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    lo, hi = to_us(start), to_us(end)
    return (lo, hi) if hi > lo else None


def bucket_plan(lo: int, hi: int, max_points: int) -> tuple[int | None, int, int]:
    """Source and buckets of a downsampled query over ``[lo, hi)`` µs: (roll-up period or None
    for raw rows, origin, width).

    With a roll-up, the width is a whole number of periods and the origin is aligned on one,
    so every roll-up row falls entirely in one bucket and the figures stay exact.
    """
    width = max(1, -(-(hi - lo) // max_points))
    for period in (HOUR_US, MINUTE_US):
        if width >= period:
            origin = lo - lo % period
            width = -(-width // period) * period
            while -(-(hi - origin) // width) > max_points:
                width += period
            return period, origin, width
    return None, lo, width
