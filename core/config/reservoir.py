"""A dam's own physics in the site config: what the crest forecast routes a flood through.

The stage–storage table comes from the reservoir's bathymetric survey, the outflow laws from
the dam's design file (spillway crest, length and coefficient; bottom outlet). The catchment's
response is *not* configured: the forecaster fits it online from the event's rain and inflow.
"""

from __future__ import annotations

import itertools

from pydantic import Field, field_validator, model_validator

from core.config.base import TAG_ID
from core.config.base import StrictModel as _Model

Table = list[tuple[float, float]]


def _rising(table: Table, what: str) -> Table:
    for (h0, v0), (h1, v1) in itertools.pairwise(table):
        if h1 <= h0:
            raise ValueError(f"{what}: levels must rise from row to row ({h0} then {h1})")
        if v1 < v0:
            raise ValueError(f"{what}: at {h1} m the value {v1} is below {v0} at {h0} m; it cannot fall")
    return table


class Spillway(_Model):
    """A free crest: Q = C·L·(h − crest)^1.5."""

    crest_m: float = Field(description="the spillway crest's level (m), in the level tag's datum")
    length_m: float = Field(gt=0, description="the crest's length (m)")
    coefficient: float = Field(1.7, gt=0, le=2.5, description="C in Q = C·L·h^1.5 (m^0.5/s), 1.7 to 2.2")


class Outlet(_Model):
    """A bottom outlet: Q = Cd·A·opening·√(2g(h − invert)); the opening from the gate tag."""

    invert_m: float = Field(description="the outlet's invert level (m)")
    area_m2: float = Field(gt=0)
    cd: float = Field(0.62, gt=0, le=1, description="discharge coefficient")
    gate: str | None = Field(
        None, pattern=TAG_ID, description="the gate opening tag (%); default: the dam's gate role, else open"
    )


class Reservoir(_Model):
    """What the crest forecast needs to route a flood: storage, outflow laws, reference levels."""

    storage: Table = Field(
        min_length=2,
        description="the stage–storage table: [level m, volume m³] rows, levels rising, "
        "e.g. [[3, 0], [4, 5500]]",
    )
    spillway: Spillway | None = None
    outlet: Outlet | None = None
    rating: Table | None = Field(
        None,
        description="instead of the laws: the total outflow at each level, [level m, flow m³/s] rows",
    )
    phe_m: float | None = Field(
        None, description="PHE, the highest safe level (plus hautes eaux) the forecast warns of"
    )
    horizon_h: float = Field(24.0, gt=0, le=96, description="how far ahead the forecast routes the flood")
    every_s: float = Field(60.0, ge=5, le=3600, description="how often the forecast is made again")

    @field_validator("storage")
    @classmethod
    def _storage(cls, table: Table) -> Table:
        return _rising(table, "storage")

    @field_validator("rating")
    @classmethod
    def _rating(cls, table: Table | None) -> Table | None:
        if table is not None and len(table) < 2:
            raise ValueError("rating: at least two rows [level m, flow m³/s]")
        return table if table is None else _rising(table, "rating")

    @model_validator(mode="after")
    def _outflow(self) -> Reservoir:
        if self.rating is None and self.spillway is None and self.outlet is None:
            raise ValueError("give the outflow: a `spillway` and/or an `outlet`, or a `rating` table")
        if self.rating is not None and (self.spillway is not None or self.outlet is not None):
            raise ValueError("a `rating` table is the whole outflow: give it or the laws, not both")
        return self
