"""A physical flood model of one flood-attenuation dam (barrage écrêteur de crue).

Rain over the catchment becomes an inflow hydrograph through a Nash cascade of linear
reservoirs (the classic instantaneous unit hydrograph); the reservoir follows the mass balance
dV/dt = Qin − Qout with a power-law stage–storage curve V = a·h^b; water leaves through a bottom
orifice, Q = Cd·A·g·√(2·g₀·(h − h_invert)) (g the gate opening), and over a free spillway crest,
Q = C·L·(h − h_crest)^1.5. Pure and deterministic: no clock, no I/O, no randomness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.config.reservoir import Outlet, Reservoir, Spillway

G = 9.81


@dataclass(frozen=True, slots=True)
class DamParameters:
    """Geometry and hydrology of one dam; levels are metres above the outlet invert."""

    catchment_km2: float = 25.0
    runoff_coefficient: float = 0.6
    nash_reservoirs: int = 3
    nash_lag_h: float = 0.8
    base_flow_m3s: float = 0.3
    storage_a: float = 6_000.0  # V = a·h^b (m³)
    storage_b: float = 2.2
    outlet_invert_m: float = 3.0  # permanent pool below the bottom outlet
    outlet_area_m2: float = 1.2
    outlet_cd: float = 0.62
    spillway_crest_m: float = 14.0
    spillway_length_m: float = 30.0
    spillway_c: float = 1.7
    dam_crest_m: float = 17.0

    def volume(self, level: float) -> float:
        return self.storage_a * math.pow(max(level, 0.0), self.storage_b)

    def level(self, volume: float) -> float:
        return math.pow(max(volume, 0.0) / self.storage_a, 1.0 / self.storage_b)

    def outlet_flow(self, level: float, gate: float) -> float:
        head = max(level - self.outlet_invert_m, 0.0)
        return self.outlet_cd * self.outlet_area_m2 * gate * math.sqrt(2 * G * head)

    def spillway_flow(self, level: float) -> float:
        head = level - self.spillway_crest_m
        return self.spillway_c * self.spillway_length_m * math.pow(head, 1.5) if head > 0 else 0.0


@dataclass(slots=True)
class DamState:
    """Everything that evolves with time; ``nash`` holds the cascade's stores (m³)."""

    volume: float
    nash: list[float] = field(default_factory=list)
    rain_mm_h: float = 0.0
    rain_total_mm: float = 0.0
    inflow: float = 0.0
    outlet: float = 0.0
    spillway: float = 0.0


class FloodModel:
    """Integrates one dam forward in simulated seconds."""

    max_step_s = 5.0

    def __init__(self, params: DamParameters, initial_level: float = 0.5) -> None:
        self.params = params
        self.state = DamState(volume=params.volume(initial_level), nash=[0.0] * params.nash_reservoirs)
        self.gate = 1.0
        self._update_flows()

    @property
    def level(self) -> float:
        return self.params.level(self.state.volume)

    @property
    def outflow(self) -> float:
        return self.state.outlet + self.state.spillway

    def advance(self, seconds: float, rain_mm_h: float) -> None:
        """Move the model ``seconds`` forward under a constant rain intensity."""
        steps = max(1, math.ceil(seconds / self.max_step_s))
        dt = seconds / steps
        p, s = self.params, self.state
        k = p.nash_lag_h * 3600.0 / max(p.nash_reservoirs, 1)
        effective = rain_mm_h * p.runoff_coefficient * p.catchment_km2 / 3.6  # m³/s
        s.rain_mm_h = rain_mm_h
        for _ in range(steps):
            flow = effective
            for i, store in enumerate(s.nash):
                out = store / k
                s.nash[i] = store + (flow - out) * dt
                flow = out
            s.inflow = flow + p.base_flow_m3s
            self._update_flows()
            s.volume = max(0.0, s.volume + (s.inflow - s.outlet - s.spillway) * dt)
            s.rain_total_mm += rain_mm_h * dt / 3600.0
        self._update_flows()

    def _update_flows(self) -> None:
        level = self.level
        self.state.outlet = self.params.outlet_flow(level, self.gate)
        self.state.spillway = self.params.spillway_flow(level)


def design(params: DamParameters, step_m: float = 0.5, above_crest_m: float = 2.0) -> Reservoir:
    """The dam's design file as a site config gives it: a surveyed stage–storage table (one row
    every ``step_m``) and the outflow laws. The catchment stays unknown to the forecast."""
    rows = int((params.dam_crest_m + above_crest_m) / step_m) + 1
    return Reservoir(
        storage=[(round(i * step_m, 3), round(params.volume(i * step_m))) for i in range(rows)],
        spillway=Spillway(
            crest_m=params.spillway_crest_m, length_m=params.spillway_length_m, coefficient=params.spillway_c
        ),
        outlet=Outlet(invert_m=params.outlet_invert_m, area_m2=params.outlet_area_m2, cd=params.outlet_cd),
        phe_m=params.dam_crest_m - 1.0,
    )
