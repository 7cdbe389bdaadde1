"""Alarm-system performance figures (EEMUA 191 / ISA-18.2) computed from the journal.

Counts are of annunciations (``raised`` events). Ten-minute windows are fixed and aligned on
the start of the period, so a figure can be checked by hand against the journal.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.alarms.journal import StoredAlarm
from core.model import AlarmAction, AlarmEvent, AlarmStatus

TEN_MINUTES = timedelta(minutes=10)
FLOOD_THRESHOLD = 10  # more than 10 alarms in 10 minutes
CHATTER_COUNT, CHATTER_WINDOW = 3, timedelta(minutes=1)
STALE_AFTER = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class FloodPeriod:
    start: datetime
    end: datetime
    alarms: int


@dataclass(frozen=True, slots=True)
class AlarmKpis:
    start: datetime
    end: datetime
    raised: int
    per_operator_per_10min: float
    max_per_10min: int
    flood_share: float  # fraction of 10-minute windows in flood
    floods: list[FloodPeriod]
    chattering: list[str]
    stale: list[str]
    top10: list[tuple[str, int]]
    priorities: dict[str, float]  # share of annunciations per priority


def compute_kpis(
    events: Iterable[AlarmEvent],
    states: Iterable[StoredAlarm],
    start: datetime,
    end: datetime,
    operators: int = 1,
) -> AlarmKpis:
    raised = sorted(
        (e for e in events if e.action == AlarmAction.RAISED and start <= e.ts < end), key=lambda e: e.ts
    )
    windows = _windows(raised, start, end)
    n = len(raised)
    return AlarmKpis(
        start=start,
        end=end,
        raised=n,
        per_operator_per_10min=n / max(len(windows), 1) / operators,
        max_per_10min=max(windows, default=0),
        flood_share=sum(c > FLOOD_THRESHOLD for c in windows) / max(len(windows), 1),
        floods=_floods(windows, start),
        chattering=_chattering(raised),
        stale=sorted(
            s.alarm
            for s in states
            if s.status in (AlarmStatus.UNACK, AlarmStatus.ACKED)
            and s.since is not None
            and end - s.since > STALE_AFTER
        ),
        top10=Counter(e.alarm for e in raised).most_common(10),
        priorities={
            p.name.lower(): count / n for p, count in sorted(Counter(e.priority for e in raised).items())
        }
        if n
        else {},
    )


def _windows(raised: Sequence[AlarmEvent], start: datetime, end: datetime) -> list[int]:
    count = max(1, -(-(end - start) // TEN_MINUTES))
    windows = [0] * count
    for event in raised:
        windows[(event.ts - start) // TEN_MINUTES] += 1
    return windows


def _floods(windows: list[int], start: datetime) -> list[FloodPeriod]:
    floods: list[FloodPeriod] = []
    for i, count in enumerate(windows):
        if count <= FLOOD_THRESHOLD:
            continue
        begin = start + i * TEN_MINUTES
        if floods and floods[-1].end == begin:
            last = floods.pop()
            floods.append(FloodPeriod(last.start, begin + TEN_MINUTES, last.alarms + count))
        else:
            floods.append(FloodPeriod(begin, begin + TEN_MINUTES, count))
    return floods


def _chattering(raised: Sequence[AlarmEvent]) -> list[str]:
    recent: dict[str, deque[datetime]] = {}
    found: set[str] = set()
    for event in raised:
        times = recent.setdefault(event.alarm, deque())
        times.append(event.ts)
        while event.ts - times[0] > CHATTER_WINDOW:
            times.popleft()
        if len(times) >= CHATTER_COUNT:
            found.add(event.alarm)
    return sorted(found)
