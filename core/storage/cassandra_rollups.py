"""The Cassandra historian's roll-ups: which minutes and hours to recompute, and from what.

A minute's figures come from what this run wrote into it (``minute_sums.py``: a repeated sample
counts once) when it is the minute's only writer, and otherwise from the minute's raw rows (a
late sample, another server of a redundant pair, an earlier run of this process): exact either
way. ``hour_writers`` tells which runs wrote which tag in which hour; this run says so before it
writes the samples. A keyspace made before these markers existed keeps the time of its upgrade
(``markers_since``): the minutes before it are always read back.

A minute is rolled up once it is over (a later sample of its tag written, or it has ended and
its tag has been quiet ``ROLL_GRACE_US``); its hour once the hour is over, or ``HOUR_LAG_S``
after its first minute was; a query rolls its tag's minutes and hours at once, and the stop
everything. The minutes to do are marked in the spool before their rows are written, and
forgotten there only once their hour is done, so a crash never leaves a roll-up stale.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from cassandra.query import BatchStatement, BatchType, PreparedStatement

from core.model import Quality, from_us, to_us, utcnow
from core.storage.base import DAY_US, HOUR_US, MINUTE_US
from core.storage.minute_sums import Figures, Minute, MinuteSums, figures_of
from core.storage.spool import Spool, SpooledRow

T = TypeVar("T")
MINUTE, HOUR = MINUTE_US, HOUR_US
BATCH_ROWS = 64  # rows of one partition per unlogged batch
ROLL_GRACE_US = 5_000_000  # a minute without a later sample is rolled up this long after its end
HOUR_LAG_S = 60.0  # an open hour's roll-up follows its minutes' at most this late (another server's trend)


def year_of(us: int) -> int:
    return from_us(us).year


class Link(Protocol):
    """What the roll-ups use of the historian: its statements, requests and spool thread."""

    def statement(self, name: str) -> PreparedStatement: ...

    async def read(self, name: str, args: Sequence[Any]) -> list[Any]: ...

    async def send(self, statement: Any, args: Sequence[Any]) -> None: ...

    def bucket(self, us: int) -> int: ...

    async def spooled(self, call: Callable[..., T], *args: Any) -> T: ...


class RollUps:
    """One historian run's roll-ups: the minutes to do, the hours due, its own minute sums."""

    def __init__(self, link: Link, spool: Spool, marked: Iterable[Minute]) -> None:
        self._link, self._spool = link, spool
        self._lock = asyncio.Lock()
        self._marked: set[Minute] = set(marked)  # the spool's minutes to recompute, as committed
        self._rolling: set[Minute] | None = None  # minutes marked again while a roll runs
        # hours whose minutes are rolled up, not yet the hour: since when, and those minutes
        self._hours_due: dict[Minute, tuple[float, set[int]]] = {}
        self._newest: dict[str, int] = {}  # per tag, its newest sample written (µs): closes its minutes
        self._written_at: dict[str, float] = {}  # per tag, when it was last written (loop time)
        self._sums = MinuteSums()
        self._writer = uuid.uuid4()  # this run's id in hour_writers
        self.markers_since = 0  # minutes before this (µs) may hold samples written without a marker

    # the write path ---------------------------------------------------------------------------
    async def before(self, minutes: set[Minute]) -> None:
        """Before a write's rows are sent: its minutes marked to do and claimed, so that a crash
        mid-write leaves none stale; they are busy until ``after`` or ``failed``."""
        self._sums.sending(minutes)
        try:
            await asyncio.gather(self.mark(minutes), self._claim(minutes))
        except BaseException:
            self._sums.written(minutes, None)
            raise

    def failed(self, minutes: set[Minute]) -> None:
        """The write failed: some of its rows may be stored, others not."""
        self._sums.written(minutes, None)

    async def after(self, minutes: set[Minute], rows: Sequence[SpooledRow], newest: dict[str, int]) -> None:
        """The write's rows are stored: summed, and their minutes marked again (a roll-up that
        ran meanwhile keeps them to do)."""
        self._sums.written(minutes, rows)
        at = asyncio.get_running_loop().time()
        for tag, us in newest.items():
            self._written_at[tag] = at
            if us > self._newest.get(tag, -1):
                self._newest[tag] = us
        await self.mark(minutes)

    async def purged(self, tag: str, before: int) -> None:
        """Samples of ``tag`` before ``before`` (µs) were deleted: the boundary is recomputed."""
        self._sums.spoil(tag, before + MINUTE)
        await self.mark({(tag, m) for m in range(before // MINUTE * MINUTE - HOUR, before + MINUTE, MINUTE)})

    async def _claim(self, minutes: set[Minute]) -> None:
        """Say in hour_writers that this run writes samples of these minutes' tags and hours."""
        hours = self._sums.unclaimed({(tag, m - m % HOUR) for tag, m in minutes})
        per_hour: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for tag, hour in hours:
            per_hour[hour].append((hour, tag, self._writer))
        await asyncio.gather(
            *(self._batched(self._link.statement("claim"), rows) for rows in per_hour.values())
        )
        self._sums.claimed(hours)

    async def mark(self, minutes: set[tuple[str, int]]) -> None:
        """Mark roll-up minutes to recompute, in the spool (so a crash never leaves one stale).

        A minute already marked is not written again: a live tag's batches fall in its open
        minute, which is marked once, not at every batch. A mark made while a roll runs keeps
        its minute from being unmarked by that roll, which may have read the raw rows before
        these were written."""
        if self._rolling is not None:
            self._rolling.update(minutes)
        new = minutes - self._marked
        if new:
            await self._link.spooled(self._spool.mark, new)
            self._marked.update(new)

    # rolling up -------------------------------------------------------------------------------
    async def roll(self, tag: str | None, closed_only: bool = False) -> None:
        """Recompute the marked minutes (of ``tag``, or all; with ``closed_only``, those over:
        a later sample of the tag written, or the minute ended and the tag not written for
        ``ROLL_GRACE_US``), then their hours."""
        async with self._lock:
            self._rolling = set()
            try:
                await self._roll_marked(tag, closed_only)
            finally:
                self._rolling = None

    async def _roll_marked(self, tag: str | None, closed_only: bool) -> None:
        assert self._rolling is not None
        marked = sorted(m for m in self._marked if tag is None or m[0] == tag)
        ended, newest = to_us(utcnow()) - ROLL_GRACE_US, self._newest
        quiet, written_at = asyncio.get_running_loop().time() - ROLL_GRACE_US / 1e6, self._written_at

        def over(t: str, m: int) -> bool:
            """A later sample of the tag is written, or the minute has ended and the tag is quiet
            (a replay of old samples keeps writing into minutes long ended)."""
            end = m + MINUTE
            return end <= newest.get(t, -1) or (end <= ended and written_at.get(t, -math.inf) <= quiet)

        if closed_only:
            marked = [(t, m) for t, m in marked if over(t, m)]
        if marked:
            await self._roll_minutes_marked(marked, over)
        now = asyncio.get_running_loop().time()
        await self._roll_hours(tag, closed_only, lambda t, h: over(t, h + HOUR - MINUTE), now)

    async def _roll_minutes_marked(self, marked: list[Minute], over: Callable[[str, int], bool]) -> None:
        """Recompute these minutes: from this run's sums where it is their only writer, else from
        their raw rows; their hours are then due."""
        assert self._rolling is not None
        summed = [m for m in marked if m[1] >= self.markers_since and self._sums.known(m)]
        shared = await self._shared(summed)
        summed = [m for m in summed if m not in shared and self._sums.known(m)]  # a write may have failed
        await self._write_minutes({m: self._sums.figures(m) for m in summed})
        spans: dict[tuple[str, int], list[int]] = defaultdict(list)
        for t, minute in set(marked).difference(summed):  # read back: no marker, or other writers
            spans[(t, self._link.bucket(minute))].append(minute)
        groups = list(spans.items())
        for i in range(0, len(groups), 16):  # a few partitions at a time: memory stays bounded
            await asyncio.gather(*(self._roll_minutes(t, minutes) for (t, _), minutes in groups[i : i + 16]))
        now = asyncio.get_running_loop().time()
        for t, m in marked:
            self._hours_due.setdefault((t, m - m % HOUR), (now, set()))[1].add(m)
        # the others: rows written since the roll began, or still being written
        done = [m for m in marked if m not in self._rolling and not self._sums.busy(m)]
        self._marked.difference_update(done)  # before the unmark, which a later mark follows
        sums = self._sums  # minutes rolled up since their last write, and over: forgotten
        sums.drop([m for m in sums if m not in self._marked and not sums.busy(m) and over(*m)])

    async def _roll_hours(
        self, tag: str | None, closed_only: bool, over: Callable[[str, int], bool], now: float
    ) -> None:
        """Recompute the hours whose minutes were rolled up (of ``tag``, or all; with
        ``closed_only``, those over or waiting ``HOUR_LAG_S``), then forget their minutes in
        the spool: until then a crash leaves them to do again, and their hour with them."""
        due = [
            (t, h)
            for (t, h), (since, _) in self._hours_due.items()
            if (tag is None or t == tag) and (not closed_only or since <= now - HOUR_LAG_S or over(t, h))
        ]
        for i in range(0, len(due), 256):
            await asyncio.gather(*(self._roll_hour(t, h) for t, h in due[i : i + 256]))
        finished, busy = [], self._sums.busy
        for t, h in due:
            _, minutes = self._hours_due.pop((t, h))
            finished += [(t, m) for m in minutes if (t, m) not in self._marked and not busy((t, m))]
        await self._link.spooled(self._spool.unmark, finished)

    async def _shared(self, minutes: list[Minute]) -> set[Minute]:
        """Which of these minutes another writer (another server, an earlier run) also wrote
        into, as far as their hours tell."""
        hours = sorted({m - m % HOUR for _, m in minutes})
        shared: set[tuple[str, int]] = set()
        for i in range(0, len(hours), 1024):  # small answers: the in-flight bound is the limit
            chunk = hours[i : i + 1024]
            answers = await asyncio.gather(*(self._link.read("writers", (hour,)) for hour in chunk))
            for hour, rows in zip(chunk, answers, strict=True):
                shared.update((r.tag, hour) for r in rows if r.writer != self._writer)
        return {(tag, m) for tag, m in minutes if (tag, m - m % HOUR) in shared}

    async def _write_minutes(self, figures: dict[Minute, Figures | None]) -> None:
        """Write these minutes' figures, each partition's in batches; a minute without any is
        deleted."""
        rows: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
        deletes: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
        for (t, minute), found in figures.items():
            day = minute // DAY_US
            if found is None:
                deletes[(t, day)].append((t, day, minute))
            else:
                rows[(t, day)].append((t, day, minute, *found))
        await asyncio.gather(
            *(self._batched(self._link.statement("minute"), group) for group in rows.values()),
            *(self._batched(self._link.statement("del_minute"), group) for group in deletes.values()),
        )

    async def _roll_minutes(self, tag: str, minutes: list[int]) -> None:
        """Recompute some minutes of one partition from one range read of its raw rows."""
        lo, hi = min(minutes), max(minutes) + MINUTE
        per_minute: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for r in await self._link.read("range", (tag, self._link.bucket(lo), lo, hi)):
            if r.value is not None and r.quality != int(Quality.BAD):
                per_minute[r.ts // MINUTE * MINUTE].append((r.ts, r.value))
        await self._write_minutes({(tag, m): figures_of(per_minute.get(m, ())) for m in set(minutes)})

    async def _batched(self, statement: PreparedStatement, rows: list[tuple[Any, ...]]) -> None:
        """Rows of one partition, in unlogged batches, several in flight."""
        requests = []
        for i in range(0, len(rows), BATCH_ROWS):
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            batch.is_idempotent = True
            for row in rows[i : i + BATCH_ROWS]:
                batch.add(statement, row)
            requests.append(self._link.send(batch, ()))
        await asyncio.gather(*requests)

    async def _roll_hour(self, tag: str, hour: int) -> None:
        found = await self._link.read("hour_sums", (tag, hour // DAY_US, hour, hour + HOUR))
        r = found[0] if found else None
        if r is None or not r.n:
            await self._link.send(self._link.statement("del_hour"), (tag, year_of(hour), hour))
            return
        await self._link.send(
            self._link.statement("hour"), (tag, year_of(hour), hour, r.mn, r.mx, r.sm, r.n, r.last)
        )
