"""Dashboards, Home Assistant style: views made of cards placed on a 12-column grid.

A card shows one thing (a value, a gauge, a trend, a dam's synoptic, the alarm list, a
station's link) and sits at ``x, y`` spanning ``w`` columns and ``h`` rows. The desktop's
edit mode changes these and writes them back to the same file (``core/config/editor.py``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from core.config.base import IDENT, Labels, StrictModel

CARD_TYPES = ("value", "gauge", "trend", "synoptic", "alarms", "station")  # a plugin adds others
COLUMNS = 12
NEEDS = {"value": "tag", "gauge": "tag", "trend": "tags", "synoptic": "station", "station": "station"}


class Card(StrictModel):
    type: str = Field(description="value, gauge, trend, synoptic, alarms, station, or a plugin's card")
    title: Labels | None = None
    tag: str | None = Field(None, description="value and gauge cards")
    tags: list[str] = Field(default_factory=list, description="trend cards: one line per tag")
    station: str | None = Field(None, description="synoptic and station cards; filters an alarm list")
    x: int = Field(0, ge=0, lt=COLUMNS)
    y: int = Field(0, ge=0, le=99)
    w: int = Field(3, ge=1, le=COLUMNS)
    h: int = Field(2, ge=1, le=12)
    options: dict[str, Any] = Field(default_factory=dict, description="a plugin card's own settings")

    @model_validator(mode="after")
    def _complete(self) -> Card:
        needed = NEEDS.get(self.type)
        if needed is not None and not getattr(self, needed):
            raise ValueError(f"a {self.type} card needs `{needed}`")
        if self.x + self.w > COLUMNS:
            raise ValueError(f"x + w must not pass the grid's {COLUMNS} columns")
        return self


def overlap(a: Card, b: Card) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def settled(cards: list[Card], moved: int) -> list[Card]:
    """``cards`` after card ``moved`` took its place: the cards it now covers go down below it,
    and those they cover in turn, as on Home Assistant's grid; a card nothing covers stays put."""
    order = [
        moved,
        *sorted((i for i in range(len(cards)) if i != moved), key=lambda i: (cards[i].y, cards[i].x)),
    ]
    out = list(cards)
    placed: list[Card] = []
    for index in order:
        card = out[index]
        while blocking := [p for p in placed if overlap(card, p)]:
            card = card.model_copy(update={"y": max(p.y + p.h for p in blocking)})
        out[index] = card
        placed.append(card)
    return out


class Dashboard(StrictModel):
    id: str = Field(pattern=IDENT)
    title: Labels
    cards: list[Card] = Field(default_factory=list)
