"""Level-pool routing: the reservoir's mass balance dV/dt = inflow − outflow(level), stepped on.

Heun's method (a predictor–corrector) on the volume, with the level read back from the
stage–storage table at each step; one-minute steps keep its error far below a centimetre on the
floods a flood-attenuation dam sees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from core.alarms.forecast.curves import Curves


def route(
    curves: Curves, level: float, inflows: Sequence[float], step_s: float, opening: float
) -> list[float]:
    """The level at the end of each step, from ``level`` now, under one inflow per step (m³/s).

    It stops early once past a peak when no inflow still to come exceeds the outflow at the
    present level: the level can then never climb back to it, so what follows cannot matter to a
    peak or to the time a level is first reached.
    """
    volume = curves.volume(level)
    levels: list[float] = []
    ahead = _maxima_ahead(inflows)
    previous_in = inflows[0] if len(inflows) else 0.0
    highest = level
    for i, inflow in enumerate(inflows):
        out_now = curves.outflow(curves.level(volume), opening)
        guess = max(volume + (previous_in - out_now) * step_s, 0.0)
        out_next = curves.outflow(curves.level(guess), opening)
        volume = max(volume + ((previous_in + inflow) / 2 - (out_now + out_next) / 2) * step_s, 0.0)
        previous_in = inflow
        now = max(curves.level(volume), curves.lowest)
        levels.append(now)
        highest = max(highest, now)
        if now < highest and ahead[i] <= curves.outflow(now, opening):
            break
    return levels


def _maxima_ahead(values: Sequence[float]) -> list[float]:
    """For each step, the largest value from it to the end."""
    out = [0.0] * len(values)
    top = -math.inf
    for i in range(len(values) - 1, -1, -1):
        top = max(top, values[i])
        out[i] = top
    return out
