"""The crest forecast's parts, and its promise over reservoirs it has never seen.

Property: for any reservoir shape, outflow laws, catchment and storm (drawn at random), a
forecast made once the rain has stopped, up to 1 h 30 min before the crest, predicts it within
15 cm and 20 min. The forecast knows the reservoir's survey and laws (``design``), never
the catchment: its area, runoff coefficient, lag and unit-hydrograph shape are learnt online.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.alarms.forecast.curves import Curves, Piecewise
from core.alarms.forecast.forecaster import DamForecaster
from core.alarms.forecast.routing import route
from core.config.reservoir import Reservoir
from core.model import Quality, Sample
from core.sim.flood import DamParameters, FloodModel, design

T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
ROLES = {"level": "d.level", "inflow": "d.inflow", "rain": "d.rain", "gate": "d.gate"}


def test_a_table_reads_both_ways_and_past_its_last_row() -> None:
    curve = Piecewise([(0, 0), (1, 10), (2, 30)])
    assert curve(0.5) == 5 and curve(1.5) == 20 and curve(3) == 50  # extended along the last segment
    assert curve.inverse()(20) == 1.5


def test_outflow_is_the_spillway_over_its_crest_plus_the_outlet_under_its_gate() -> None:
    curves = Curves(design(DamParameters()))
    assert curves.outflow(2.9) == 0  # below the outlet's invert
    half, full = curves.outflow(10, 0.5), curves.outflow(10, 1.0)
    assert half == pytest.approx(full / 2)
    assert curves.outflow(15, 1.0) - curves.outflow(13.99, 1.0) > 50  # 1 m over a 30 m crest: 51 m³/s


def test_routing_keeps_the_mass_balance() -> None:
    """Constant inflow into a reservoir without outflow below its invert: the volume grows by
    exactly what came in."""
    curves = Curves(design(DamParameters(outlet_invert_m=20)))
    levels = route(curves, 1.0, [10.0] * 60, 60.0, 1.0)
    assert curves.volume(levels[-1]) - curves.volume(1.0) == pytest.approx(10.0 * 3600, rel=1e-3)


def test_a_reservoir_table_that_goes_down_is_refused_with_its_rows() -> None:
    with pytest.raises(ValidationError, match=r"levels must rise from row to row \(4.0 then 3.5\)"):
        Reservoir(storage=[(3, 0), (4, 100), (3.5, 200)], rating=[(3, 0), (5, 10)])
    with pytest.raises(ValidationError, match="give the outflow"):
        Reservoir(storage=[(3, 0), (4, 100)])
    with pytest.raises(ValidationError, match="not both"):
        Reservoir(
            storage=[(3, 0), (4, 100)], rating=[(3, 0), (5, 10)], spillway={"crest_m": 4, "length_m": 5}
        )


def _storm(peak_mm_h: float, hours: float) -> list[tuple[float, float]]:
    """A rain burst as six steps of a sine: (start hour, mm/h), ending dry."""
    steps = [(0.5 + hours * i / 6, peak_mm_h * math.sin(math.pi * (i + 0.5) / 6)) for i in range(6)]
    return [(0.0, 0.0), *steps, (0.5 + hours, 0.0)]


def _rain(storm: list[tuple[float, float]], hour: float) -> float:
    return next((mm for start, mm in reversed(storm) if start <= hour), 0.0)


dams = st.builds(
    lambda b, a, crest, length, area, km2, runoff, n, lag, base: DamParameters(
        catchment_km2=km2,
        runoff_coefficient=runoff,
        nash_reservoirs=n,
        nash_lag_h=lag,
        base_flow_m3s=base,
        storage_a=a * 10 ** (2.2 - b),
        storage_b=b,
        spillway_crest_m=crest,
        spillway_length_m=length,
        outlet_area_m2=area,
        dam_crest_m=crest + 4,
    ),
    st.floats(1.5, 3.0),
    st.floats(2_000, 12_000),
    st.floats(8, 16),
    st.floats(10, 50),
    st.floats(0.5, 2),
    st.floats(8, 40),
    st.floats(0.3, 0.8),
    st.integers(1, 5),
    st.floats(0.3, 2.0),
    st.floats(0.1, 2.0),
)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(dam=dams, peak_mm_h=st.floats(20, 120), hours=st.floats(1, 4))
def test_after_the_rain_the_crest_of_an_unknown_catchment_is_predicted(
    dam: DamParameters, peak_mm_h: float, hours: float
) -> None:
    storm = _storm(peak_mm_h, hours)
    model, flood = FloodModel(dam, 3.5), []
    for minute in range(1, 24 * 60):  # the flood as its station would send it, a sample a minute
        rain = _rain(storm, (minute - 1) / 60)
        model.advance(60, rain)
        flood.append((T0 + timedelta(minutes=minute), model.level, model.state.inflow, rain))
    crest_at, crest = max(((ts, level) for ts, level, _, _ in flood), key=lambda row: row[1])
    dry = T0 + timedelta(hours=0.5 + hours, minutes=15)  # a quarter of an hour after the last drop
    decide = max(dry, crest_at - timedelta(minutes=90))  # and at most 1 h 30 min before the crest
    if decide >= crest_at or crest_at == flood[-1][0]:
        return  # the crest came with the rain, or the base flow still fills it at the day's end
    forecaster = DamForecaster("d", design(dam).model_copy(update={"every_s": 86_400}), ROLES)
    for ts, level, inflow, rain in flood:
        if ts > decide:
            break
        for tag, value in (("d.inflow", inflow), ("d.rain", rain), ("d.gate", 100.0), ("d.level", level)):
            forecaster.offer(Sample(tag, ts, value, Quality.GOOD))
    outlook = forecaster.forecast(decide).rain_stops
    assert abs(outlook.peak - crest) <= 0.15, (outlook.peak, crest)
    assert abs((outlook.peak_at - crest_at).total_seconds()) <= 20 * 60, (outlook.peak_at, crest_at)


def test_an_outlook_says_when_a_level_is_reached_between_its_points() -> None:
    from core.model import Outlook

    outlook = Outlook(T0, 12.0, 300.0, (12.5, 13.5, 13.9, 13.7), 13.9, T0 + timedelta(minutes=15), 13.8, 14.0)
    assert outlook.when(11.0) == T0  # there already
    assert outlook.when(13.0) == T0 + timedelta(seconds=450)  # half-way between 5 and 10 min
    assert outlook.when(14.5) is None  # never within the horizon (the PHE, say)
