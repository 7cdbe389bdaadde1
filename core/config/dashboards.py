"""Dashboards, Home Assistant style: views made of cards placed on a 12-column grid.

A card shows one thing (a value, a gauge, a trend, a dam's synoptic, the alarm list, a
station's link) and sits at ``x, y`` spanning ``w`` columns and ``h`` rows. The desktop's
edit mode changes these and writes them back to the same file (``core/config/editor.py``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from core.config.base import IDENT, Labels, StrictModel

CardType = Literal["value", "gauge", "trend", "synoptic", "alarms", "station"]
COLUMNS = 12
NEEDS = {"value": "tag", "gauge": "tag", "trend": "tags", "synoptic": "station", "station": "station"}


class Card(StrictModel):
    type: CardType
    title: Labels | None = None
    tag: str | None = Field(None, description="value and gauge cards")
    tags: list[str] = Field(default_factory=list, description="trend cards: one line per tag")
    station: str | None = Field(None, description="synoptic and station cards; filters an alarm list")
    x: int = Field(0, ge=0, lt=COLUMNS)
    y: int = Field(0, ge=0, le=99)
    w: int = Field(3, ge=1, le=COLUMNS)
    h: int = Field(2, ge=1, le=12)

    @model_validator(mode="after")
    def _complete(self) -> Card:
        needed = NEEDS.get(self.type)
        if needed is not None and not getattr(self, needed):
            raise ValueError(f"a {self.type} card needs `{needed}`")
        if self.x + self.w > COLUMNS:
            raise ValueError(f"x + w must not pass the grid's {COLUMNS} columns")
        return self


class Dashboard(StrictModel):
    id: str = Field(pattern=IDENT)
    title: Labels
    cards: list[Card] = Field(default_factory=list)
