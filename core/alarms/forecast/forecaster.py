"""One dam's crest forecast, made again every minute of the station's time from its samples.

The samples of the dam's level, inflow, rain and gate are held on a one-minute grid over the
last hours; each forecast fits the catchment's answer to the event's rain (``runoff``), builds
the inflow still to come under two scenarios (the rain stops now; it goes on at the current
rate), and routes each through the reservoir (``routing``) from the level measured now.
Without an inflow tag the inflow is read from the level itself (the mass balance, over the last
quarter of an hour) and held; without a rain tag it is held too, and the forecast says so.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np

from core.alarms.forecast import runoff
from core.alarms.forecast.curves import Curves
from core.alarms.forecast.routing import route
from core.config.reservoir import Reservoir
from core.model import CrestForecast, Outlook, Quality, Sample

STEP_S = 60.0
WINDOW_STEPS = 12 * 60  # the fit looks at the last 12 h
PATH_EVERY = 5  # the published trajectory keeps one level every 5 steps
_RATE_STEPS = 15  # the level's trend over the last quarter of an hour
_ROLES = ("level", "inflow", "rain", "gate")


class DamForecaster:
    """Holds one dam's recent samples and forecasts its crest from them."""

    def __init__(
        self,
        station: str,
        reservoir: Reservoir,
        tags: dict[str, str],
        wall: Callable[[], float] | None = None,
    ) -> None:
        """``tags`` maps the roles level, inflow, rain, gate to tag ids (level is required).
        ``wall`` (a monotonic clock) lets a time-lapse forecast at most once a real second."""
        self.station, self.reservoir = station, reservoir
        self.curves = Curves(reservoir)
        self.level_tag = tags["level"]
        self._role = {tag: role for role, tag in tags.items() if role in _ROLES}
        if reservoir.outlet is not None and reservoir.outlet.gate:
            self._role[reservoir.outlet.gate] = "gate"
        self._has = set(self._role.values())
        self._last: dict[str, float] = {}
        self._grid: deque[tuple[float, float, float, float]] = deque(maxlen=WINDOW_STEPS)
        self._grid_at: datetime | None = None  # the time of the next grid point
        self._next_forecast: datetime | None = None
        self._wall, self._wall_next = wall, 0.0
        self.latest: CrestForecast | None = None
        self.runoff: runoff.Runoff | None = None  # the catchment's answer as last fitted

    def inputs(self) -> list[str]:
        """The tags this forecast reads."""
        return list(self._role)

    def offer(self, sample: Sample) -> CrestForecast | None:
        """Take one sample; return a new forecast when one is due (else None)."""
        role = self._role.get(sample.tag)
        if role is None or sample.quality is Quality.BAD or not math.isfinite(sample.value):
            return None
        self._fill(sample.ts)
        self._last[role] = min(max(sample.value / 100.0, 0.0), 1.0) if role == "gate" else sample.value
        if role != "level" or "level" not in self._last:
            return None
        if self._next_forecast is not None and sample.ts < self._next_forecast:
            return None
        if self._wall is not None:
            now = self._wall()
            if now < self._wall_next:
                return None
            self._wall_next = now + 1.0
        self._next_forecast = sample.ts + timedelta(seconds=self.reservoir.every_s)
        self.latest = self.forecast(sample.ts)
        return self.latest

    def _fill(self, ts: datetime) -> None:
        """Extend the grid up to ``ts``, holding each role's last value (a sample-and-hold)."""
        if self._grid_at is None:
            self._grid_at = ts
            return
        if ts < self._grid_at:
            return
        missed = int((ts - self._grid_at).total_seconds() // STEP_S) + 1
        if missed > WINDOW_STEPS:  # a long gap: what came before no longer explains the flood
            self._grid.clear()
            self._grid_at = ts
            return
        if "level" in self._last:
            point = self._point()
            for _ in range(missed):
                self._grid.append(point)
        self._grid_at += timedelta(seconds=STEP_S * missed)

    def _point(self) -> tuple[float, float, float, float]:
        last = self._last
        return (last["level"], last.get("inflow", math.nan), last.get("rain", 0.0), last.get("gate", 1.0))

    def forecast(self, ts: datetime) -> CrestForecast:
        """Route the flood from the level now, under both rain scenarios."""
        level = self._last["level"]
        opening = self._last.get("gate", 1.0)
        grid = np.array(self._grid, dtype=float).reshape(-1, 4)
        rain_now = self._last.get("rain", 0.0)
        steps = max(1, int(self.reservoir.horizon_h * 3600 / STEP_S))
        inflow_now, fit = self._inflow(grid, level, opening)
        if fit is not None and "rain" in self._has:
            rain = grid[:, 2]
            stops = fit.inflow(rain, np.zeros(steps), inflow_now)
            band = min(max(2 * fit.error, 0.05), 0.5)
            base = fit.base
            continues = fit.inflow(rain, np.full(steps, rain_now), inflow_now) if rain_now > 0 else None
        else:
            stops, band, base = np.full(steps, inflow_now), 0.25, inflow_now
            continues = None
        return CrestForecast(
            station=self.station,
            tag=self.level_tag,
            ts=ts,
            level=level,
            rate_per_h=_rate(grid[:, 0]),
            rain_stops=self._outlook(ts, level, opening, stops, base, band),
            rain_continues=None
            if continues is None
            else self._outlook(ts, level, opening, continues, base, band),
            fitted=fit is not None and "rain" in self._has,
            phe=self.reservoir.phe_m,
        )

    def _inflow(self, grid: np.ndarray, level: float, opening: float) -> tuple[float, runoff.Runoff | None]:
        """The inflow now, and the catchment's fitted answer to rain when it can be learnt."""
        if "inflow" in self._last:
            measured = grid[:, 1]
            known = ~np.isnan(measured)
            fit = runoff.fit(grid[known, 2], measured[known], STEP_S) if known.sum() >= 10 else None
            self.runoff = fit
            return self._last["inflow"], fit
        # no inflow gauge: what came in is what the level stored plus what went out
        if len(grid) <= _RATE_STEPS:
            return self.curves.outflow(level, opening), None
        before = grid[-_RATE_STEPS - 1, 0]
        stored = (self.curves.volume(level) - self.curves.volume(before)) / (_RATE_STEPS * STEP_S)
        return max(stored + self.curves.outflow(level, opening), 0.0), None

    def _outlook(
        self, ts: datetime, level: float, opening: float, inflows: np.ndarray, base: float, band: float
    ) -> Outlook:
        central = route(self.curves, level, inflows.tolist(), STEP_S, opening)
        low = route(self.curves, level, (base + (inflows - base) * (1 - band)).tolist(), STEP_S, opening)
        high = route(self.curves, level, (base + (inflows - base) * (1 + band)).tolist(), STEP_S, opening)
        top = int(np.argmax(central))
        peak, at = (central[top], top + 1) if central[top] > level else (level, 0)
        return Outlook(
            start=ts,
            start_level=level,
            step_s=STEP_S * PATH_EVERY,
            path=tuple(round(x, 3) for x in central[PATH_EVERY - 1 :: PATH_EVERY]),
            peak=peak,
            peak_at=ts + timedelta(seconds=STEP_S * at),
            low=min(max(low), peak) if at else level,
            high=max(max(high), peak) if at else level,
            rising_at_horizon=len(central) == len(inflows) and top == len(central) - 1 and len(central) > 1,
        )


def _rate(levels: np.ndarray) -> float | None:
    """The level's least-squares slope over the last quarter of an hour (m/h)."""
    if len(levels) < 3:
        return None
    recent = levels[-_RATE_STEPS:]
    x = np.arange(len(recent), dtype=float)
    slope = float(np.polyfit(x, recent, 1)[0])
    return slope * 3600.0 / STEP_S
