"""The flood model obeys its physics: mass balance, orifice and weir laws, attenuation."""

from __future__ import annotations

import math

import pytest

from core.sim.flood import DamParameters, FloodModel, G
from core.sim.scenario import load_dams, load_scenario


def test_volume_is_conserved_through_a_flood() -> None:
    """Stored volume change equals the volume that came in minus what went out."""
    model = FloodModel(DamParameters(), initial_level=3.0)
    start = model.state.volume
    balance = 0.0
    for minute in range(600):
        before_in, before_out = model.state.inflow, model.outflow
        model.advance(60, 40.0 if minute < 120 else 0.0)
        balance += 60 * ((before_in + model.state.inflow) - (before_out + model.outflow)) / 2
    assert model.state.volume - start == pytest.approx(balance, rel=0.02)


def test_outflow_follows_the_orifice_and_weir_laws() -> None:
    p = DamParameters(outlet_invert_m=2.0, spillway_crest_m=10.0)
    assert p.outlet_flow(2.0, 1.0) == 0.0
    assert p.outlet_flow(6.0, 0.5) == pytest.approx(
        p.outlet_cd * p.outlet_area_m2 * 0.5 * math.sqrt(2 * G * 4.0)
    )
    assert p.spillway_flow(9.99) == 0.0
    assert p.spillway_flow(11.0) == pytest.approx(p.spillway_c * p.spillway_length_m * 1.0)


def test_stage_storage_curve_round_trips() -> None:
    p = DamParameters()
    for level in (0.5, 4.0, 13.7):
        assert p.level(p.volume(level)) == pytest.approx(level)


def test_the_dam_attenuates_the_100_year_flood() -> None:
    """Peak outflow stays well below peak inflow, and the level rises towards the spillway."""
    scenario = load_scenario("flood-100y")
    dam = load_dams().dams[0]
    model = FloodModel(dam.parameters(), scenario.initial_level_m)
    peak_in = peak_out = peak_level = 0.0
    for minute in range(12 * 60):
        model.advance(60, scenario.rain_at(minute / 60) * dam.rain_factor)
        peak_in = max(peak_in, model.state.inflow)
        peak_out = max(peak_out, model.outflow)
        peak_level = max(peak_level, model.level)
    assert peak_out < peak_in / 3
    assert peak_level > dam.parameters().spillway_crest_m - 1.0


def test_a_dry_day_keeps_the_permanent_pool() -> None:
    scenario = load_scenario("dry-day")
    model = FloodModel(DamParameters(), scenario.initial_level_m)
    for _ in range(24 * 60):
        model.advance(60, scenario.rain_at(0))
    assert 3.0 <= model.level < 3.1


def test_unknown_scenario_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: dry-day, flood-100y"):
        load_scenario("tsunami")
