"""When the history may be purged: never on a clock that disagrees with the data.

A server started with its clock 11 years ahead deleted all 4,136 samples of its history as past
retention. The retention's "now" is therefore checked against what the data says:

- the newest sample stored when the server started, plus the time that really passed since
  (the monotonic clock, times the time-lapse's speed): the purge never cuts later than that, so
  a clock stepped forward after the start deletes nothing it should not;
- if the clock is ahead of that by more than the retention itself, a purge now would delete the
  whole history: it is refused, the log says why and the supervision's alarm is raised;
- the same when a station reports its clock off from ours by more than an hour (a server clock
  wrong by days is still ahead of the station it reads from).

A purge held this way costs disk only; it resumes by itself once the clock agrees again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

STATION_SKEW_S = 3600.0  # a station this far from our clock: our clock is not trusted for a purge


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where the purge may cut (``before``), or None and why not (``refusal``, ``ahead_h``)."""

    before: datetime | None
    refusal: str = ""
    ahead_h: float | None = None


class RetentionGuard:
    """Anchors the data's time at the first pass, then judges every later pass against it."""

    def __init__(self, keep: timedelta, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic):
        self.keep, self.speed, self._monotonic = keep, speed, monotonic
        self._anchor: tuple[datetime, float] | None = None  # (newest stored, monotonic then)

    def judge(self, now: datetime, newest: datetime | None, skews: Iterable[float | None] = ()) -> Verdict:
        """``newest``: the newest sample stored now; ``skews``: each station's clock minus ours (s)."""
        if self._anchor is None:
            if newest is None:
                return Verdict(None)  # nothing stored: nothing to purge
            self._anchor = (newest, self._monotonic())
        stored, then = self._anchor
        trusted = stored + timedelta(seconds=(self._monotonic() - then) * self.speed)
        ahead = now - trusted
        if ahead > self.keep:
            hours = ahead.total_seconds() / 3600
            return Verdict(
                None,
                f"the server's clock ({now.isoformat()}) is {hours:.0f} h ahead of its data (newest "
                f"sample {stored.isoformat()}): a purge now would delete the whole history",
                hours,
            )
        off = [skew for skew in skews if skew is not None and abs(skew) > STATION_SKEW_S]
        if off:
            worst = max(off, key=abs)
            return Verdict(
                None, f"a station's clock is {worst / 3600:+.1f} h from this server's", -worst / 3600
            )
        return Verdict(min(now, trusted) - self.keep)
