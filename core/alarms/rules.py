"""Rule evaluators: from samples to "should this alarm's condition be true?".

Each evaluator is pure state without I/O or timers; it answers ``None`` when a sample carries
no information (NaN, bad quality), so a dropped link never clears a high-level alarm. Delays,
shelving and annunciation belong to the engine and the state machine.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from core.model import CrestForecast, Outlook, Quality, Sample, to_us

_BAD = Quality.BAD
_CREST_FRESH_US = 15 * 60 * 1_000_000  # an older crest forecast no longer speaks for the level


class Evaluator:
    """Base: ``update`` a sample, get the wanted condition (or None for "no opinion")."""

    active = False

    def update(self, sample: Sample) -> bool | None:
        raise NotImplementedError

    def prime(self, active: bool) -> None:
        """Resume with the condition restored from the journal (keeps the hysteresis right)."""
        self.active = active

    @staticmethod
    def usable(sample: Sample) -> bool:
        return sample.quality is not Quality.BAD and not math.isnan(sample.value)


class HighLimit(Evaluator):
    """Active above ``limit``; clears only below ``limit - deadband`` (no chattering)."""

    def __init__(self, limit: float, deadband: float) -> None:
        self.limit, self.deadband = limit, deadband

    def update(self, sample: Sample) -> bool | None:
        value = sample.value
        if value != value or sample.quality is _BAD:  # NaN or bad: no opinion (inlined: the hot path)
            return None
        self.active = value > self.limit if not self.active else value >= self.limit - self.deadband
        return self.active


class LowLimit(Evaluator):
    """Active below ``limit``; clears only above ``limit + deadband``."""

    def __init__(self, limit: float, deadband: float) -> None:
        self.limit, self.deadband = limit, deadband

    def update(self, sample: Sample) -> bool | None:
        value = sample.value
        if value != value or sample.quality is _BAD:  # NaN or bad: no opinion (inlined: the hot path)
            return None
        self.active = value < self.limit if not self.active else value <= self.limit + self.deadband
        return self.active


class Trend:
    """Least-squares slope (units per hour) over a sliding time window, updated in O(1)."""

    def __init__(self, window_s: float) -> None:
        self.window_us = int(window_s * 1e6)
        self._points: deque[tuple[float, float]] = deque()
        self._origin: int | None = None
        self._st = self._sv = self._stt = self._stv = 0.0

    def add(self, sample: Sample) -> None:
        now = to_us(sample.ts)
        if self._origin is None:
            self._origin = now
        t = (now - self._origin) / 3.6e9  # hours since the first point
        if self._points and t <= self._points[-1][0]:
            return  # late or repeated sample: the trend follows time forwards only
        self._points.append((t, sample.value))
        self._st += t
        self._sv += sample.value
        self._stt += t * t
        self._stv += t * sample.value
        horizon = t - self.window_us / 3.6e9
        while self._points and self._points[0][0] < horizon:
            old_t, old_v = self._points.popleft()
            self._st -= old_t
            self._sv -= old_v
            self._stt -= old_t * old_t
            self._stv -= old_t * old_v

    @property
    def span_h(self) -> float:
        return self._points[-1][0] - self._points[0][0] if len(self._points) > 1 else 0.0

    def slope(self) -> float | None:
        """Units per hour, once the window is at least half full."""
        n = len(self._points)
        if n < 3 or self.span_h * 3.6e9 < self.window_us / 2:
            return None
        mean_t = self._st / n
        var = self._stt / n - mean_t * mean_t
        if var <= 1e-18:
            return None
        return (self._stv / n - mean_t * self._sv / n) / var


class RateOfChange(Evaluator):
    """Active while the slope exceeds ``rise_per_hour`` (or falls below it when negative)."""

    def __init__(self, rise_per_hour: float, window_s: float) -> None:
        self.threshold = rise_per_hour
        self.trend = Trend(window_s)
        self.rate: float | None = None

    def update(self, sample: Sample) -> bool | None:
        if not self.usable(sample):
            return None
        self.trend.add(sample)
        self.rate = self.trend.slope()
        if self.rate is None:
            return None
        exceeded = self.rate > self.threshold if self.threshold >= 0 else self.rate < self.threshold
        self.active = exceeded
        return exceeded


@dataclass(frozen=True, slots=True)
class Prediction:
    rate_per_h: float | None
    eta_min: float | None  # None: not heading towards the threshold


class Forecast(Evaluator):
    """Predicted minutes until ``threshold``; active under ``horizon_min``.

    With the dam's crest forecast (its flood routed through the reservoir, ``crest``) the time
    is when the predicted level reaches the threshold; without one, or with one gone stale, it
    is the current slope's extrapolation, and ``by_trend`` says so to every face.
    """

    def __init__(
        self, threshold: float, horizon_min: float, window_s: float, scenario: str = "rain_stops"
    ) -> None:
        self.threshold, self.horizon_min, self.scenario = threshold, horizon_min, scenario
        self.trend = Trend(window_s)
        self.prediction = Prediction(None, None)
        self.crest: CrestForecast | None = None
        self.by_trend = True

    def outlook(self) -> Outlook | None:
        crest = self.crest
        if crest is None:
            return None
        if self.scenario == "rain_continues" and crest.rain_continues is not None:
            return crest.rain_continues
        return crest.rain_stops

    def update(self, sample: Sample) -> bool | None:
        if not self.usable(sample):
            return None
        self.trend.add(sample)
        rate = self.trend.slope()
        gap = self.threshold - sample.value
        outlook = self.outlook()
        fresh = outlook is not None and abs(to_us(sample.ts) - to_us(outlook.start)) <= _CREST_FRESH_US
        self.by_trend = not fresh
        eta: float | None
        if gap <= 0:
            eta = 0.0
        elif fresh and outlook is not None:
            when = outlook.when(self.threshold)
            eta = None if when is None else max((to_us(when) - to_us(sample.ts)) / 60e6, 0.0)
        elif rate is not None and rate > 0:
            eta = gap / rate * 60.0
        else:
            eta = None
        self.prediction = Prediction(rate, eta)
        if rate is None and gap > 0 and not fresh:
            return None
        self.active = eta is not None and eta < self.horizon_min
        return self.active


class BadQuality(Evaluator):
    def update(self, sample: Sample) -> bool | None:
        self.active = sample.quality is Quality.BAD
        return self.active


class Discrete(Evaluator):
    """Active while the value equals the abnormal ``state`` (booleans are 0/1)."""

    def __init__(self, state: float) -> None:
        self.state = state

    def update(self, sample: Sample) -> bool | None:
        if not self.usable(sample):
            return None
        self.active = abs(sample.value - self.state) < 0.5
        return self.active


class Stale(Evaluator):
    """Cleared by every usable sample; the engine's timer sets it when none came in time."""

    def __init__(self, max_age_s: float) -> None:
        self.max_age_s = max_age_s

    def update(self, sample: Sample) -> bool | None:
        if not self.usable(sample):
            return None
        self.active = False
        return False


class Communication(Evaluator):
    """Driven by station states, not samples."""

    def update(self, sample: Sample) -> bool | None:
        return None


class Access(Evaluator):
    """A station that refuses us (certificate, policy, password, secret): driven by its status."""

    def update(self, sample: Sample) -> bool | None:
        return None


class Supervision(Evaluator):
    """A fault of the supervision itself (the historian, the server's clock): set by the runtime."""

    def update(self, sample: Sample) -> bool | None:
        return None


class ClockSkew(Evaluator):
    """A station whose clock is further than ``max_skew_s`` from ours: driven by its status."""

    def __init__(self, max_skew_s: float) -> None:
        self.max_skew_s = max_skew_s

    def update(self, sample: Sample) -> bool | None:
        return None
