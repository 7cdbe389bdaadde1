"""The minutes a remote historian is writing, summed as it writes them.

A roll-up recomputed from the raw rows reads back everything written: on Cassandra that read
costs the node more than the writes. These sums make it unnecessary when this process is the
only writer of a minute since the minute began, which the historian checks (writer markers);
here they only have to be exact for what this process wrote:

- a sample written twice (a station re-sends its current value after a session drop, a client
  retries) counts once: values are kept per source time;
- the same source time written with another value or quality, a write that failed (some of its
  rows may be stored, others not), or a purge spoils the minute: it is recomputed from the raw
  rows;
- a minute is recorded when its write is acknowledged, never before, and is busy while writes
  are in flight, so a roll-up never forgets a minute that may still change;
- once a minute is rolled up and over, its values are dropped, and the tag's *floor* rises past
  it: a later write into a dropped minute (a late sample, a replay) is not summed here, since
  what was dropped is gone. The roll-up reads that minute's raw rows instead.

No I/O, no asyncio: the historian calls it between its awaits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from core.model import Quality
from core.storage.base import MINUTE_US
from core.storage.spool import SpooledRow

Minute = tuple[str, int]  # (tag, minute start in µs)
Figures = tuple[float, float, float, int, float]  # min, max, sum, count, last
_BAD = int(Quality.BAD)
_UNSET = object()
_CLAIMS_KEPT = 100_000


def figures_of(good: Sequence[tuple[int, float]]) -> Figures | None:
    """A minute's figures from its counted (time in µs, value) pairs; None when there are none."""
    if not good:
        return None
    values = [v for _, v in good]
    return min(values), max(values), sum(values), len(values), max(good)[1]


class MinuteSums:
    def __init__(self) -> None:
        # per minute: source time (µs) -> value, None when not counted (bad, or no value);
        # None instead of the dict: spoiled, to recompute from the raw rows
        self._values: dict[Minute, dict[int, float | None] | None] = {}
        self._floor: dict[str, int] = {}  # per tag: minutes before this were dropped
        self._writing: Counter[Minute] = Counter()  # writes in flight per minute
        self._claims: set[Minute] = set()  # (tag, hour) this process said it writes into

    def __iter__(self) -> Iterator[Minute]:
        return iter(self._values)

    def unclaimed(self, hours: Iterable[Minute]) -> list[Minute]:
        """Of these (tag, hour), those this process has not said it writes into (or forgot)."""
        return [hour for hour in hours if hour not in self._claims]

    def claimed(self, hours: Iterable[Minute]) -> None:
        if len(self._claims) > _CLAIMS_KEPT:
            self._claims.clear()  # saying it again is harmless
        self._claims.update(hours)

    def sending(self, minutes: Iterable[Minute]) -> None:
        self._writing.update(minutes)

    def written(self, minutes: Iterable[Minute], rows: Sequence[SpooledRow] | None) -> None:
        """A write into ``minutes`` is over: ``rows`` were stored, or (None) it failed."""
        minutes = list(minutes)
        self._writing.subtract(minutes)
        for minute in minutes:
            if self._writing[minute] <= 0:
                del self._writing[minute]
        if rows is None:
            for minute in minutes:  # some rows may be stored, others not
                if minute in self._values or minute[1] >= self._floor.get(minute[0], minute[1]):
                    self._values[minute] = None
            return
        values = self._values
        for tag, us, value, quality, _status in rows:
            minute = (tag, us - us % MINUTE_US)
            kept = values.get(minute, _UNSET)
            if kept is _UNSET:
                if minute[1] < self._floor.get(tag, minute[1]):
                    continue  # dropped already: the roll-up reads this minute back
                kept = values[minute] = {}
            if kept is None:
                continue
            assert isinstance(kept, dict)
            counted = value if value is not None and quality != _BAD else None
            before = kept.get(us, _UNSET)
            if before is not _UNSET and before != counted:
                values[minute] = None  # which write Cassandra kept last is not known here
                continue
            kept[us] = counted

    def busy(self, minute: Minute) -> bool:
        return minute in self._writing

    def known(self, minute: Minute) -> bool:
        """Whether this process has every value it wrote into ``minute``."""
        return self._values.get(minute) is not None

    def figures(self, minute: Minute) -> Figures | None:
        """The minute's figures from what this process wrote; None when nothing counts."""
        kept = self._values.get(minute)
        assert kept is not None, "figures of a minute not known"
        return figures_of([(us, v) for us, v in kept.items() if v is not None])

    def spoil(self, tag: str, before: int) -> None:
        """Rows of ``tag`` before ``before`` (µs) changed behind this process's back (a purge)."""
        for minute in [m for m in self._values if m[0] == tag and m[1] < before]:
            self._values[minute] = None

    def drop(self, minutes: Iterable[Minute]) -> None:
        """These minutes are rolled up and over: forget them, and let no later write into one
        of them be summed from what is left here."""
        for minute in minutes:
            self._values.pop(minute, None)
            tag, start = minute
            if start + MINUTE_US > self._floor.get(tag, start):
                self._floor[tag] = start + MINUTE_US
