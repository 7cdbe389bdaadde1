"""The site file's ``alarms`` section: one model per kind of alarm rule (ISA-18.2 alarm types).

The engine (``core.alarms.rules``) implements each kind; these models say what a site may write.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.config.base import IDENT, Labels, PriorityName
from core.config.base import StrictModel as _Model


class Limit(_Model):
    value: float
    priority: PriorityName | None = Field(
        None, description="default: HHH and HH critical, H high, L medium, LL high"
    )
    deadband: float | None = Field(None, ge=0, description="default: the rule's deadband")


class _Rule(_Model):
    """What every alarm rule has: which tags, how urgent, what to say, how to delay."""

    id: str = Field(pattern=IDENT)
    tags: str = Field(description="a tag id or a pattern such as *.level")
    priority: PriorityName = "medium"
    message: Labels | None = Field(None, description="templates: {label} {value} {unit} {limit} {station}")
    on_delay_s: float = Field(0.0, ge=0, le=86_400)
    off_delay_s: float = Field(0.0, ge=0, le=86_400)
    latching: bool = False
    suppressed_in: list[str] = Field(
        default_factory=list, description="modes that silence it, e.g. maintenance"
    )


class LimitsRule(_Rule):
    """Fixed limits. An upper limit is crossed when the value goes *above* it (``>``), a lower
    one when it goes *below* (``<``); it clears once back past the limit by the deadband.
    ``HHH`` is a third upper level, e.g. the spillway crest above the HH warning level."""

    kind: Literal["limits"]
    limits: dict[Literal["HHH", "HH", "H", "L", "LL"], Limit] = Field(min_length=1)
    deadband: float = Field(0.0, ge=0)


class RateRule(_Rule):
    """Rate of change over a sliding window (least-squares slope), e.g. level rising fast."""

    kind: Literal["rate"]
    rise_per_hour: float = Field(description="alarm above this slope; negative watches a fall")
    window_s: float = Field(600.0, gt=0, le=86_400)


class ForecastRule(_Rule):
    """Predicted time to a threshold (e.g. HH or the spillway crest): from the dam's crest
    forecast when its station has a ``reservoir``, else from the level's current slope."""

    kind: Literal["forecast"]
    threshold: float
    horizon_min: float = Field(gt=0, le=10_080, description="alarm when the threshold is closer than this")
    window_s: float = Field(900.0, gt=0, le=86_400, description="the slope's window, without a reservoir")
    scenario: Literal["rain_stops", "rain_continues"] = Field(
        "rain_stops",
        description="with a reservoir: the rain already fallen only (rain_stops), or rain going on at "
        "the current rate (rain_continues, earlier and more often wrong)",
    )


class StaleRule(_Rule):
    kind: Literal["stale"]
    max_age_s: float = Field(gt=0, le=86_400 * 7)


class QualityRule(_Rule):
    kind: Literal["quality"]


class DiscreteRule(_Rule):
    kind: Literal["discrete"]
    state: float = Field(1.0, description="the abnormal state, e.g. 1 for door open")


class CommunicationRule(_Rule):
    """Loss of the link to a station; ``tags`` names stations (id or pattern) here."""

    kind: Literal["communication"]


AlarmRule = Annotated[
    LimitsRule | RateRule | ForecastRule | StaleRule | QualityRule | DiscreteRule | CommunicationRule,
    Field(discriminator="kind"),
]


class AlarmSettings(_Model):
    max_shelve_h: float = Field(8.0, gt=0, le=24 * 30, description="longest shelving an operator may set")
