"""The purge's "now" is checked against the data: a wrong clock never deletes the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.storage.retention import RetentionGuard

KEEP = timedelta(days=365)
T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


class Monotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_right_clock_purges_past_the_retention() -> None:
    guard = RetentionGuard(KEEP, monotonic=Monotonic())
    verdict = guard.judge(T0 + timedelta(seconds=5), T0)
    assert verdict.refusal == "" and verdict.before == T0 - KEEP


def test_a_clock_eleven_years_ahead_at_start_purges_nothing_and_says_why() -> None:
    guard = RetentionGuard(KEEP, monotonic=Monotonic())
    verdict = guard.judge(T0 + timedelta(days=11 * 365), T0)
    assert verdict.before is None and "ahead of its data" in verdict.refusal
    assert verdict.ahead_h is not None and round(verdict.ahead_h) == 11 * 365 * 24


def test_a_clock_stepped_ahead_after_the_start_cuts_no_later_than_the_time_that_passed() -> None:
    clock = Monotonic()
    guard = RetentionGuard(KEEP, monotonic=clock)
    assert guard.judge(T0, T0).before == T0 - KEEP
    clock.t += 3600  # an hour passed, but the clock says 200 days
    verdict = guard.judge(T0 + timedelta(days=200), T0 + timedelta(days=200))  # newest stamped by it
    assert verdict.before == T0 + timedelta(hours=1) - KEEP  # what the data's own time allows


def test_a_server_down_for_a_month_still_purges_its_old_samples() -> None:
    guard = RetentionGuard(KEEP, monotonic=Monotonic())
    verdict = guard.judge(T0 + timedelta(days=30), T0)
    assert verdict.refusal == "" and verdict.before == T0 - KEEP  # a month later than it could: harmless


def test_a_station_far_from_our_clock_holds_the_purge() -> None:
    guard = RetentionGuard(KEEP, monotonic=Monotonic())
    verdict = guard.judge(T0, T0, [None, 0.4, -86_400.0 * 3])
    assert verdict.before is None and "-72.0 h" in verdict.refusal and verdict.ahead_h == 72.0


def test_nothing_stored_is_nothing_to_purge() -> None:
    assert RetentionGuard(KEEP).judge(T0, None).before is None


def test_a_time_lapse_counts_its_own_seconds() -> None:
    clock = Monotonic()
    guard = RetentionGuard(KEEP, speed=600, monotonic=clock)
    guard.judge(T0, T0)
    clock.t += 600  # ten real minutes at ×600: one hundred simulated hours
    verdict = guard.judge(T0 + timedelta(hours=100), T0 + timedelta(hours=100))
    assert verdict.refusal == "" and verdict.before == T0 + timedelta(hours=100) - KEEP
