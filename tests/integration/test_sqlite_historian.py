"""What only the SQLite historian does: roll-ups summed in memory survive a killed process."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.storage.sqlite import SQLiteHistorian
from tests.conftest import REPO

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)

# 3.5 minutes of two tags, one sample of each a second in its own commit, as acquisition stores
# them; then the process dies without stopping the historian (its open minutes never merged)
_KILLED_WRITER = textwrap.dedent(
    """
    import asyncio, os, sys
    from datetime import UTC, datetime, timedelta
    from core.model import Sample
    from core.storage.sqlite import SQLiteHistorian

    async def main():
        historian = SQLiteHistorian(sys.argv[1])
        await historian.start()
        t0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
        for i in range(210):
            ts = t0 + timedelta(seconds=i)
            await historian.write([Sample("a.level", ts, float(i)), Sample("b.flow", ts, float(i % 7))])
        os._exit(9)

    asyncio.run(main())
    """
)


async def _started_after(path: Path, killed_writer: str) -> SQLiteHistorian:
    """A historian started on the file a killed process (``killed_writer``) left."""
    killed = await asyncio.create_subprocess_exec(sys.executable, "-c", killed_writer, str(path), cwd=REPO)
    assert await asyncio.wait_for(killed.wait(), 120) == 9
    historian = SQLiteHistorian(path)
    await historian.start()
    return historian


async def test_a_killed_historian_s_open_minutes_are_counted_again_at_the_next_start(tmp_path: Path) -> None:
    """Long-range trends (read from the roll-ups) hold every sample the killed process stored."""
    historian = await _started_after(tmp_path / "h.db", _KILLED_WRITER)
    try:
        (hour,) = await historian.downsampled("a.level", T0, T0 + timedelta(hours=1), 1)  # the hourly roll-up
        assert (hour.count, hour.min, hour.max, hour.last) == (210, 0, 209, 209)
        minutes = await historian.downsampled("b.flow", T0, T0 + timedelta(hours=1), 60)  # the minute roll-up
        assert [b.count for b in minutes] == [60, 60, 60, 30]
        assert minutes[-1].last == 209 % 7 and minutes[-1].avg == sum(i % 7 for i in range(180, 210)) / 30
    finally:
        await historian.stop()


# two hours of a tag never stored before, replayed in one batch (a station's backlog): the writer
# commits the raw rows while a second thread sums them, and the minutes and the hour they close
# are merged only in the next transaction, which never comes
_KILLED_REPLAY = textwrap.dedent(
    """
    import asyncio, os, sys
    from datetime import UTC, datetime, timedelta
    from core.model import Sample
    from core.storage.sqlite import SQLiteHistorian

    async def main():
        historian = SQLiteHistorian(sys.argv[1])
        await historian.start()
        t0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
        backlog = [Sample("c.gauge", t0 + timedelta(seconds=i), float(i % 600)) for i in range(7200)]
        await historian.write(backlog)
        os._exit(9)

    asyncio.run(main())
    """
)


async def test_a_replayed_backlog_is_in_the_roll_ups_after_a_kill_just_after_its_commit(
    tmp_path: Path,
) -> None:
    """Trends over a replayed backlog are exact even when the process dies the moment it is stored."""
    historian = await _started_after(tmp_path / "h.db", _KILLED_REPLAY)
    try:
        hours = await historian.downsampled("c.gauge", T0, T0 + timedelta(hours=4), 4)
        assert [(b.count, b.min, b.max, b.last) for b in hours] == [(3600, 0, 599, 599)] * 2
        minutes = await historian.downsampled("c.gauge", T0, T0 + timedelta(hours=2), 120)
        assert [b.count for b in minutes] == [60] * 120
    finally:
        await historian.stop()


async def test_a_minute_still_open_is_in_a_long_range_query_at_once(tmp_path: Path) -> None:
    """The newest minute, not yet merged into the roll-ups, is not missing from a day's trend."""
    from core.model import Sample

    historian = SQLiteHistorian(tmp_path / "h.db")
    await historian.start()
    try:
        for i in range(90):  # a minute and a half, one commit a second
            await historian.write([Sample("a.level", T0 + timedelta(seconds=i), float(i))])
        buckets = await historian.downsampled("a.level", T0, T0 + timedelta(days=1), 24)
        assert [(b.count, b.last) for b in buckets] == [(90, 89)]
    finally:
        await historian.stop()


async def test_samples_out_of_order_inside_one_new_batch_are_counted_exactly(tmp_path: Path) -> None:
    """A batch newer than everything stored is summed beside its commit; its own disorder (a
    gateway's buffer flushed unsorted) still reaches the roll-ups exactly, at the next query."""
    from core.model import Sample

    historian = SQLiteHistorian(tmp_path / "h.db")
    await historian.start()
    try:
        await historian.write([Sample("a.level", T0 + timedelta(seconds=s), float(s)) for s in (0, 1, 2)])
        unsorted = [5, 3, 4, 70, 61, 65]  # all newer than what is stored; two minutes
        await historian.write([Sample("a.level", T0 + timedelta(seconds=s), float(s)) for s in unsorted])
        minutes = await historian.downsampled("a.level", T0, T0 + timedelta(hours=1), 60)
        assert [(b.count, b.min, b.max, b.last) for b in minutes] == [(6, 0, 5, 5), (3, 61, 70, 70)]
        (hour,) = await historian.downsampled("a.level", T0, T0 + timedelta(hours=1), 1)
        assert (hour.count, hour.last, hour.avg) == (9, 70, sum([0, 1, 2, *unsorted]) / 9)
    finally:
        await historian.stop()


async def test_batches_out_of_order_keep_every_minute_and_hour_exact(tmp_path: Path) -> None:
    """Two writers of one tag on interleaved timelines (a gateway catching up beside the live
    one): each late batch recomputes only its own minutes, and every minute and hour stays exact."""
    import random

    from core.model import Sample

    rng = random.Random(3)
    starts = list(range(0, 3 * 3600, 100))
    order = starts[::2] + starts[1::2]  # the second timeline is late against the first
    rng.shuffle(order[len(order) // 2 :])
    historian = SQLiteHistorian(tmp_path / "h.db")
    await historian.start()
    try:
        values: dict[int, float] = {}
        for start in order:
            batch = [(start + i, float(rng.randrange(1000))) for i in range(100)]
            values.update(batch)
            await historian.write([Sample("a.level", T0 + timedelta(seconds=t), v) for t, v in batch])
        for buckets, width in ((180, 60), (3, 3600)):
            got = await historian.downsampled("a.level", T0, T0 + timedelta(hours=3), buckets)
            expected = []
            for b in range(buckets):
                inside = [values[t] for t in range(b * width, (b + 1) * width)]
                expected.append((len(inside), min(inside), max(inside), inside[-1], sum(inside)))
            assert [(g.count, g.min, g.max, g.last, round(g.avg * g.count)) for g in got] == expected
    finally:
        await historian.stop()
