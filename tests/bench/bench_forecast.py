"""Crest forecast accuracy (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_forecast.py [random floods, default 60]

Floods of the simulator (``core.sim.flood``): the demo's three dams under the 100-year Cévennes
flood (rain still falling an hour before the crest) and under a 2 h 30 min storm, then random
reservoirs, catchments and storms (seeded). At 60, 30 and 15 min before each true crest, the
forecast (from the samples so far, knowing only the reservoir's survey and outflow laws)
predicts the crest; the naive slope extrapolation of the same run predicts the level at the
crest's time as the level now plus the last quarter-hour's slope times the lead. Printed: the
median and 90th percentile of |error| in level (cm) for both, and of the forecast's crest time
(min), and the time one forecast takes.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from core.alarms.forecast.forecaster import DamForecaster
from core.model import Quality, Sample
from core.sim.flood import DamParameters, FloodModel, design
from core.sim.scenario import load_dams, load_scenario

T0 = datetime(2026, 11, 3, tzinfo=UTC)
LEADS = (60, 30, 15)
ROLES = {"level": "d.level", "inflow": "d.inflow", "rain": "d.rain", "gate": "d.gate"}
STORM = [(0.0, 0.0), (0.25, 30), (0.5, 80), (1.0, 110), (1.5, 80), (2.0, 30), (2.5, 0)]


def _rain_of(steps: list[tuple[float, float]]):  # type: ignore[no-untyped-def]
    return lambda hour: next((mm for start, mm in reversed(steps) if start <= hour), 0.0)


def flood(
    params: DamParameters, rain_at, start_level: float = 3.2
) -> list[tuple[datetime, float, float, float]]:  # type: ignore[no-untyped-def]
    model, rows = FloodModel(params, start_level), []
    for minute in range(1, 24 * 60):
        rain = rain_at((minute - 1) / 60)
        model.advance(60, rain)
        rows.append((T0 + timedelta(minutes=minute), model.level, model.state.inflow, rain))
    return rows


def errors(params: DamParameters, rows, costs: list[float]) -> dict[int, tuple[float, float, float]] | None:  # type: ignore[no-untyped-def]
    """For each lead: (|forecast level error| m, |forecast time error| min, |slope level error| m)."""
    crest_i = max(range(len(rows)), key=lambda i: rows[i][1])
    if crest_i == len(rows) - 1 or crest_i < 90:
        return None
    crest_at, crest = rows[crest_i][0], rows[crest_i][1]
    out = {}
    for lead in LEADS:
        forecaster = DamForecaster("d", design(params).model_copy(update={"every_s": 86_400}), ROLES)
        decide = crest_at - timedelta(minutes=lead)
        for ts, level, inflow, rain in rows:
            if ts > decide:
                break
            for tag, value in (("d.inflow", inflow), ("d.rain", rain), ("d.gate", 100.0), ("d.level", level)):
                forecaster.offer(Sample(tag, ts, value, Quality.GOOD))
        started = time.perf_counter()
        forecast = forecaster.forecast(decide)
        costs.append(time.perf_counter() - started)
        outlook = forecast.rain_stops
        slope = forecast.level + (forecast.rate_per_h or 0.0) * lead / 60
        out[lead] = (abs(outlook.peak - crest), abs((outlook.peak_at - crest_at).total_seconds()) / 60,
                     abs(slope - crest))  # fmt: skip
    return out


def report(name: str, found: list[dict[int, tuple[float, float, float]]]) -> None:
    print(f"\n{name} ({len(found)} floods)")
    print("lead   forecast |Δlevel| p50 / p90   |Δtime| p50 / p90   slope |Δlevel| p50 / p90   ratio p50")
    for lead in LEADS:
        level = sorted(e[lead][0] * 100 for e in found)
        when = sorted(e[lead][1] for e in found)
        slope = sorted(e[lead][2] * 100 for e in found)

        def p90(xs: list[float]) -> float:
            return xs[min(len(xs) - 1, math.ceil(0.9 * len(xs)) - 1)]

        ratio = statistics.median(level) / max(statistics.median(slope), 1e-9)
        print(f"{lead:3d} min  {statistics.median(level):6.1f} / {p90(level):6.1f} cm      "
              f"{statistics.median(when):5.1f} / {p90(when):5.1f} min     "
              f"{statistics.median(slope):6.1f} / {p90(slope):6.1f} cm          {ratio:.2f}")  # fmt: skip


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    costs: list[float] = []
    hundred = load_scenario("flood-100y")
    for title, rain_of in (("demo dams, 100-year flood", None), ("demo dams, 2 h 30 min storm", STORM)):
        found = []
        for dam in load_dams().dams:
            rain_at = (
                (lambda hour, f=dam.rain_factor: hundred.rain_at(hour) * f)
                if rain_of is None
                else _rain_of(rain_of)
            )
            start = hundred.initial_level_m if rain_of is None else 3.2
            result = errors(dam.parameters(), flood(dam.parameters(), rain_at, start), costs)
            if result:
                found.append(result)
                print(title, dam.station, {k: tuple(round(x, 3) for x in v) for k, v in result.items()})
        report(title, found)
    rng, found = random.Random(7), []
    for _ in range(count):
        b, crest_m = rng.uniform(1.5, 3.0), rng.uniform(8, 16)
        params = DamParameters(
            catchment_km2=rng.uniform(8, 40), runoff_coefficient=rng.uniform(0.3, 0.8),
            nash_reservoirs=rng.randint(1, 5), nash_lag_h=rng.uniform(0.3, 2.0), base_flow_m3s=rng.uniform(0.1, 2),
            storage_a=rng.uniform(2000, 12000) * 10 ** (2.2 - b), storage_b=b, spillway_crest_m=crest_m,
            spillway_length_m=rng.uniform(10, 50), outlet_area_m2=rng.uniform(0.5, 2), dam_crest_m=crest_m + 4,
        )  # fmt: skip
        hours, peak = rng.uniform(1, 4), rng.uniform(20, 120)
        steps = [(0.0, 0.0)] + [
            (0.5 + hours * i / 6, peak * math.sin(math.pi * (i + 0.5) / 6)) for i in range(6)
        ]
        result = errors(params, flood(params, _rain_of([*steps, (0.5 + hours, 0.0)]), 3.5), costs)
        if result:
            found.append(result)
    report("random reservoirs, catchments and storms (seed 7)", found)
    print(f"\none forecast: median {statistics.median(costs) * 1000:.1f} ms, max {max(costs) * 1000:.1f} ms "
          f"({len(costs)} forecasts)")  # fmt: skip


if __name__ == "__main__":
    main()
