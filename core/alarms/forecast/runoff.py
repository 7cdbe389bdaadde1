"""The catchment's answer to rain, fitted online from the event's own rain and inflow.

A Nash cascade (n equal linear reservoirs, the classic instantaneous unit hydrograph) turns
rain into the inflow above the base flow: q(t) = base + gain · Σ rain(τ) · h(t − τ). For each
shape (n, lag) of a small grid the gain that fits best is a least-squares ratio, so the fit is
a few dozen convolutions over the last hours, cheap enough to redo every minute. Nothing about
the catchment is configured: its area, runoff coefficient and lag are what the fit finds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SHAPES = (1, 2, 3, 4, 5)
LAGS_H = tuple(0.25 * math.pow(32.0, i / 23) for i in range(24))  # 0.25 h to 8 h, geometric
_MIN_RAIN_MM = 2.0  # less rain than this in the window: nothing to fit on
_MIN_RISE = 0.05  # the inflow rose less than this share above its base: idem
_REFINE = 12  # golden-section steps around the grid's best lag (its span shrinks 300-fold)


def kernel(shape: int, lag_steps: float, length: int) -> np.ndarray:
    """The cascade's response at each step to one step of unit rain (it sums to 1 over time)."""
    t = np.arange(length + 1, dtype=float) / (lag_steps / shape)
    total = np.zeros_like(t)
    term = np.ones_like(t)
    for m in range(shape):
        if m:
            term = term * t / m
        total += term
    cdf = 1.0 - np.exp(-t) * total
    diff: np.ndarray = np.diff(cdf)
    return diff


@dataclass(frozen=True, slots=True)
class Runoff:
    """A fitted catchment: inflow = base + gain · (rain through the cascade of ``shape`` × lag)."""

    shape: int
    lag_h: float
    gain: float  # m³/s of inflow per mm/h of rain, once the cascade has passed it on
    base: float  # m³/s
    error: float  # the fit's RMS error over the inflow's rise (0: perfect, 1: none explained)
    step_s: float

    def _kernel(self, length: int) -> np.ndarray:
        return kernel(self.shape, self.lag_h * 3600.0 / self.step_s, length)

    def inflow(self, rain: np.ndarray, future_rain: np.ndarray, measured_now: float) -> np.ndarray:
        """Inflow (m³/s) at each future step, for the past ``rain`` then ``future_rain``.

        The model's error now (measured against modelled) is carried forward and fades over the
        lag, so the forecast starts from what the station measures, not from the model's idea.
        """
        series = np.concatenate([rain, future_rain])
        passed = np.convolve(series, self._kernel(len(series)))[: len(series)]
        now, future = passed[len(rain) - 1], passed[len(rain) :]
        modelled_now = self.base + self.gain * now
        fade = np.exp(-np.arange(1, len(future) + 1) * self.step_s / (self.lag_h * 3600.0))
        flows: np.ndarray = np.maximum(
            self.base + self.gain * future + (measured_now - modelled_now) * fade, 0.0
        )
        return flows


def fit(rain: np.ndarray, inflow: np.ndarray, step_s: float) -> Runoff | None:
    """The cascade that best explains ``inflow`` from ``rain`` (both one value per step), or None
    when the window holds too little rain or too little rise to learn from."""
    if len(rain) < 10 or float(rain.sum()) * step_s / 3600.0 < _MIN_RAIN_MM:
        return None
    base = float(inflow.min())
    rise = inflow - base
    if float(rise.max()) < _MIN_RISE * max(base, 1.0):
        return None
    best: Runoff | None = None
    best_sse = math.inf
    for shape in SHAPES:
        sse, lag_h, gain = _best_lag(rain, rise, shape, step_s)
        if sse < best_sse:
            best_sse, best = sse, Runoff(shape, lag_h, gain, base, 0.0, step_s)
    if best is None:
        return None
    error = math.sqrt(best_sse / len(rise)) / float(rise.max())
    return Runoff(best.shape, best.lag_h, best.gain, best.base, error, step_s)


def _fitted(
    rain: np.ndarray, rise: np.ndarray, shape: int, lag_h: float, step_s: float
) -> tuple[float, float]:
    """The squared error and the gain of the best fit with this shape and lag."""
    passed = np.convolve(rain, kernel(shape, lag_h * 3600.0 / step_s, len(rain)))[: len(rain)]
    energy = float(passed @ passed)
    if energy <= 0.0:
        return math.inf, 0.0
    gain = max(float(passed @ rise) / energy, 0.0)
    residual = rise - gain * passed
    return float(residual @ residual), gain


def _best_lag(rain: np.ndarray, rise: np.ndarray, shape: int, step_s: float) -> tuple[float, float, float]:
    """The lag that fits best for one shape: the grid, then a golden-section search around its best."""
    errors = [_fitted(rain, rise, shape, lag, step_s)[0] for lag in LAGS_H]
    at = int(np.argmin(errors))
    lo, hi = LAGS_H[max(at - 1, 0)], LAGS_H[min(at + 1, len(LAGS_H) - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = _fitted(rain, rise, shape, a, step_s)[0], _fitted(rain, rise, shape, b, step_s)[0]
    for _ in range(_REFINE):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = _fitted(rain, rise, shape, a, step_s)[0]
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = _fitted(rain, rise, shape, b, step_s)[0]
    lag = (lo + hi) / 2
    sse, gain = _fitted(rain, rise, shape, lag, step_s)
    return sse, lag, gain
