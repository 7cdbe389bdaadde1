"""The storage contract: every historian backend must pass this same suite (DESIGN rule 3)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.model import Quality, Sample
from core.storage.base import Historian
from core.storage.cassandra import CassandraHistorian
from core.storage.sqlite import SQLiteHistorian
from tests.integration.conftest import cassandra_settings

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def make_sqlite(tmp_path: Path, _request: pytest.FixtureRequest) -> Historian:
    return SQLiteHistorian(tmp_path / "h.db")


def make_cassandra(tmp_path: Path, request: pytest.FixtureRequest) -> Historian:
    node = request.getfixturevalue("cassandra_node")  # started once, on first use
    return CassandraHistorian(cassandra_settings(node), 3650, tmp_path / "spool.db")


BACKENDS = {"sqlite": make_sqlite, "cassandra": make_cassandra}


@pytest.fixture(params=sorted(BACKENDS))
async def historian(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Historian]:
    store = BACKENDS[request.param](tmp_path, request)
    await store.start()
    yield store
    await store.stop()


def series(tag: str, n: int, start: datetime = T0, step: float = 1.0, base: float = 0.0) -> list[Sample]:
    return [Sample(tag, start + timedelta(seconds=i * step), base + i) for i in range(n)]


async def test_written_samples_come_back_in_time_order(historian: Historian) -> None:
    """A raw query returns exactly what was written, oldest first, within [start, end)."""
    samples = series("a.level", 100)
    await historian.write(list(reversed(samples)))
    got = await historian.raw("a.level", T0, T0 + timedelta(seconds=50))
    assert [s.value for s in got] == [float(i) for i in range(50)]
    assert got[0].ts == T0 and got[0].ts.tzinfo is not None


async def test_rewriting_a_sample_never_duplicates_it(historian: Historian) -> None:
    """Backfill and client retries write the same (tag, ts) again: one sample is kept."""
    samples = series("a.level", 30)
    await historian.write(samples)
    await historian.write(samples[10:])
    got = await historian.raw("a.level", T0, T0 + timedelta(hours=1))
    assert len(got) == 30


async def test_tags_are_kept_apart(historian: Historian) -> None:
    await historian.write(series("a.level", 10) + series("b.level", 5, base=100))
    assert len(await historian.raw("a.level", T0, T0 + timedelta(hours=1))) == 10
    assert [s.value for s in await historian.raw("b.level", T0, T0 + timedelta(hours=1))][:2] == [100, 101]
    assert await historian.raw("unknown.tag", T0, T0 + timedelta(hours=1)) == []


async def test_quality_and_bad_markers_survive(historian: Historian) -> None:
    """A communication-loss marker (NaN, bad) is stored as such and ignored by aggregates."""
    marker = Sample("a.level", T0 + timedelta(seconds=5), math.nan, Quality.BAD, status=0x80310000)
    await historian.write([*series("a.level", 5), marker])
    got = await historian.raw("a.level", T0, T0 + timedelta(minutes=1))
    assert got[-1].quality is Quality.BAD and math.isnan(got[-1].value) and got[-1].status == 0x80310000
    latest = await historian.latest("a.level")
    assert latest is not None and latest.quality is Quality.BAD
    assert await historian.last_good_timestamp("a.level") == T0 + timedelta(seconds=4)
    (bucket,) = await historian.downsampled("a.level", T0, T0 + timedelta(minutes=1), 1)
    assert (bucket.min, bucket.max, bucket.avg, bucket.last, bucket.count) == (0, 4, 2, 4, 5)


async def test_roll_ups_count_good_values_only_and_end_on_the_newest_of_them(historian: Historian) -> None:
    """A minute's figures leave out loss markers, bad values and samples without a value; its last
    value is the newest it counted, even when one of those came after it."""

    def at(seconds: int, value: float, quality: Quality = Quality.GOOD) -> Sample:
        return Sample("a.flow", T0 + timedelta(seconds=seconds), value, quality)

    marker_last = [at(i, float(i)) for i in range(10)] + [at(10, math.nan, Quality.BAD)]
    bad_value_last = [at(60 + i, 100.0 + i, Quality.UNCERTAIN) for i in range(5)] + [
        at(70, 999.0, Quality.BAD)
    ]
    no_value_last = [at(120 + i, 200.0 + i) for i in range(3)] + [at(125, math.nan)]
    await historian.write(marker_last + bad_value_last + no_value_last + [at(190, 1.0)])
    minutes = await historian.downsampled("a.flow", T0, T0 + timedelta(hours=1), 60)  # the minute roll-up
    figures = [(b.count, b.min, b.max, b.last) for b in minutes]
    assert figures == [(10, 0, 9, 9), (5, 100, 104, 104), (3, 200, 202, 202), (1, 1, 1, 1)]
    (hour,) = await historian.downsampled("a.flow", T0, T0 + timedelta(hours=1), 1)  # the hourly one
    assert (hour.count, hour.min, hour.max, hour.last) == (19, 0, 202, 1)


@pytest.mark.parametrize("span", [timedelta(minutes=10), timedelta(hours=6), timedelta(days=3)])
async def test_downsampling_matches_a_hand_computation(historian: Historian, span: timedelta) -> None:
    """Buckets hold min/max/avg/last of their samples, whatever source (raw or roll-up) is used."""
    step = max(1.0, span.total_seconds() / 5000)
    n = int(span.total_seconds() / step)
    samples = [Sample("a.q", T0 + timedelta(seconds=i * step), float((i * 7) % 13)) for i in range(n)]
    for i in range(0, n, 700):  # several commits, as live acquisition would do
        await historian.write(samples[i : i + 700])
    buckets = await historian.downsampled("a.q", T0, T0 + span, 50)
    assert 0 < len(buckets) <= 50
    assert sum(b.count for b in buckets) == n
    for b, nxt in zip(buckets, [*buckets[1:], None], strict=True):
        end = nxt.start if nxt else T0 + span
        inside = [s.value for s in samples if b.start <= s.ts < end]
        assert (b.min, b.max, b.last, b.count) == (min(inside), max(inside), inside[-1], len(inside))
        assert b.avg == pytest.approx(sum(inside) / len(inside))


async def test_late_samples_correct_the_rollups(historian: Historian) -> None:
    """A backfilled gap is reflected exactly in long-range (roll-up) queries."""
    samples = series("a.level", 7200)
    gap = set(range(1000, 2000))
    await historian.write([s for i, s in enumerate(samples) if i not in gap])
    await historian.write([s for i, s in enumerate(samples) if i in gap])
    await historian.write(samples[1500:1600])  # a duplicate replay as well
    buckets = await historian.downsampled("a.level", T0, T0 + timedelta(hours=2), 2)
    assert [(b.count, b.min, b.max, b.last) for b in buckets] == [
        (3600, 0, 3599, 3599),
        (3600, 3600, 7199, 7199),
    ]


async def test_purge_removes_only_old_samples(historian: Historian) -> None:
    await historian.write(series("a.level", 600))
    deleted = await historian.purge(T0 + timedelta(seconds=100))
    assert deleted == 100
    got = await historian.raw("a.level", T0, T0 + timedelta(hours=1))
    assert got[0].ts == T0 + timedelta(seconds=100) and len(got) == 500


async def test_submit_resolves_only_once_durable(historian: Historian, tmp_path: Path) -> None:
    """When the future resolves, another reader already sees the samples."""
    await historian.submit(series("a.level", 10))
    assert len(await historian.raw("a.level", T0, T0 + timedelta(hours=1))) == 10
