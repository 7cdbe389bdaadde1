"""A reservoir's curves: volume at a level and back (its stage–storage table), outflow at a level.

Tables are interpolated linearly and extended past their last row along the last segment, so a
flood above the surveyed range still routes (less precisely) instead of stopping the forecast.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

from core.config.reservoir import Reservoir

G = 9.81


class Piecewise:
    """y(x) through rising points, linear between them and beyond the last two."""

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        self.xs = [float(x) for x, _ in points]
        self.ys = [float(y) for _, y in points]

    def __call__(self, x: float) -> float:
        xs, ys = self.xs, self.ys
        at = min(max(bisect_right(xs, x), 1), len(xs) - 1)
        x0, x1, y0, y1 = xs[at - 1], xs[at], ys[at - 1], ys[at]
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)

    def inverse(self) -> Piecewise:
        """The same curve read the other way (x at a y); the table's values must rise strictly."""
        return Piecewise([(y, x) for x, y in zip(self.xs, self.ys, strict=True)])


class Curves:
    """Volume ⇄ level and outflow at a level, from a dam's :class:`Reservoir` config."""

    def __init__(self, reservoir: Reservoir) -> None:
        self.reservoir = reservoir
        storage = _strictly_rising(reservoir.storage)
        self.volume = Piecewise(storage)
        self.level = self.volume.inverse()
        self._rating = Piecewise(reservoir.rating) if reservoir.rating else None
        self.lowest = storage[0][0]

    def outflow(self, level: float, opening: float = 1.0) -> float:
        """Total outflow (m³/s) at ``level`` with the bottom gate open by ``opening`` (0–1)."""
        if self._rating is not None:
            return max(0.0, self._rating(max(level, self._rating.xs[0])))
        flow = 0.0
        spillway, outlet = self.reservoir.spillway, self.reservoir.outlet
        if spillway is not None and level > spillway.crest_m:
            flow += spillway.coefficient * spillway.length_m * math.pow(level - spillway.crest_m, 1.5)
        if outlet is not None and level > outlet.invert_m:
            flow += outlet.cd * outlet.area_m2 * opening * math.sqrt(2 * G * (level - outlet.invert_m))
        return flow


def _strictly_rising(table: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Rows whose volume does not rise (a flat survey step) are dropped: the inverse needs a slope."""
    kept = [table[0]]
    for row in table[1:]:
        if row[1] > kept[-1][1]:
            kept.append(row)
    if len(kept) < 2:
        raise ValueError("storage: the volumes never rise, so no level can be read back from a volume")
    return kept
