"""A remote historian's own minute sums: exact for what it wrote, or not used at all."""

from __future__ import annotations

from core.model import Quality
from core.storage.base import MINUTE_US
from core.storage.minute_sums import MinuteSums

M0 = 1_000 * MINUTE_US  # a minute's start, µs
GOOD, BAD = int(Quality.GOOD), int(Quality.BAD)


def rows(tag: str, *values: tuple[int, float | None, int]) -> list[tuple[str, int, float | None, int, None]]:
    """Rows as the historian writes them: (second in the minute, value, quality)."""
    return [(tag, M0 + s * 1_000_000, v, q, None) for s, v, q in values]


def write(sums: MinuteSums, batch: list[tuple[str, int, float | None, int, None]]) -> None:
    minutes = {(tag, us - us % MINUTE_US) for tag, us, *_ in batch}
    sums.sending(minutes)
    sums.written(minutes, batch)


def test_a_sample_written_twice_counts_once_and_bad_or_empty_values_not_at_all() -> None:
    sums = MinuteSums()
    write(sums, rows("a", (0, 4.0, GOOD), (10, 2.0, GOOD), (20, None, GOOD)))
    write(sums, rows("a", (10, 2.0, GOOD), (30, 9.0, BAD), (40, 3.0, GOOD)))  # a re-send, a bad value
    assert sums.figures(("a", M0)) == (2.0, 4.0, 9.0, 3, 3.0)


def test_a_minute_with_only_bad_samples_has_no_figures() -> None:
    sums = MinuteSums()
    write(sums, rows("a", (0, 1.0, BAD)))
    assert sums.known(("a", M0)) and sums.figures(("a", M0)) is None


def test_the_same_time_with_another_value_or_quality_leaves_the_minute_to_its_raw_rows() -> None:
    sums = MinuteSums()
    write(sums, rows("a", (0, 1.0, GOOD), (5, 2.0, GOOD)))
    write(sums, rows("b", (0, 1.0, GOOD)))
    write(sums, rows("a", (5, 7.0, GOOD)))  # which of 2 and 7 Cassandra kept is not known here
    write(sums, rows("b", (0, 1.0, BAD)))
    assert not sums.known(("a", M0)) and not sums.known(("b", M0))
    write(sums, rows("a", (6, 1.0, GOOD)))  # and stays so
    assert not sums.known(("a", M0))


def test_a_failed_write_leaves_its_minutes_to_their_raw_rows() -> None:
    sums = MinuteSums()
    write(sums, rows("a", (0, 1.0, GOOD)))
    minutes = {("a", M0), ("a", M0 + MINUTE_US)}
    sums.sending(minutes)
    assert sums.busy(("a", M0))
    sums.written(minutes, None)  # some rows may be stored, others not
    assert not sums.busy(("a", M0))
    assert not sums.known(("a", M0)) and not sums.known(("a", M0 + MINUTE_US))
    write(sums, [("a", M0 + MINUTE_US + 1, 5.0, GOOD, None)])
    assert not sums.known(("a", M0 + MINUTE_US))


def test_a_minute_is_busy_until_every_write_into_it_is_over() -> None:
    sums = MinuteSums()
    minute = ("a", M0)
    sums.sending([minute])
    sums.sending([minute])
    sums.written([minute], rows("a", (0, 1.0, GOOD)))
    assert sums.busy(minute)
    sums.written([minute], rows("a", (1, 2.0, GOOD)))
    assert not sums.busy(minute) and sums.figures(minute) == (1.0, 2.0, 3.0, 2, 2.0)


def test_a_late_sample_into_a_dropped_minute_is_not_summed_from_what_is_left() -> None:
    """Once dropped, this process no longer has the minute's earlier values: a sum of the late
    sample alone would be wrong, so the minute is read back instead."""
    sums = MinuteSums()
    write(sums, rows("a", (0, 1.0, GOOD)))
    write(sums, [("a", M0 + MINUTE_US, 2.0, GOOD, None)])  # the next minute, still open
    sums.drop([("a", M0)])
    write(sums, rows("a", (30, 5.0, GOOD)))
    assert not sums.known(("a", M0))
    assert sums.known(("a", M0 + MINUTE_US))  # an open minute kept is still whole
    write(sums, [("a", M0 + MINUTE_US + 5, 3.0, GOOD, None)])
    assert sums.figures(("a", M0 + MINUTE_US)) == (2.0, 3.0, 5.0, 2, 3.0)
    write(sums, rows("b", (30, 5.0, GOOD)))  # another tag's floor is its own
    assert sums.known(("b", M0))


def test_a_purge_spoils_the_minutes_before_it() -> None:
    sums = MinuteSums()
    write(sums, rows("a", (0, 1.0, GOOD)))
    write(sums, [("a", M0 + 5 * MINUTE_US, 2.0, GOOD, None)])
    sums.spoil("a", M0 + MINUTE_US)
    assert not sums.known(("a", M0)) and sums.known(("a", M0 + 5 * MINUTE_US))


def test_an_hour_claimed_is_not_claimed_again() -> None:
    sums = MinuteSums()
    assert sums.unclaimed([("a", 0), ("b", 0)]) == [("a", 0), ("b", 0)]
    sums.claimed([("a", 0)])
    assert sums.unclaimed([("a", 0), ("b", 0)]) == [("b", 0)]
