"""Which values are measurements at all: every source judges its samples the same way.

A REST client once posted 1.7976931348623157e308 m for a reservoir's level: it was stored as a
good sample and the minute's average became ``inf`` in the history and its CSV. Two checks:

- a value beyond ``MAX_MAGNITUDE`` (or not finite) is no measurement of a dam: nothing we
  measure comes near 1e15 in its unit, and below it no roll-up's sum can overflow;
- a value outside the tag's configured ``range`` is kept, since a flood can take a gauge past
  what the engineers expected, but never as good: OPC-UA's own word for it is
  ``Uncertain_EngineeringUnitsExceeded`` (Part 8 §6.3.2), so alarms still see it and screens
  show it as uncertain.

The REST API refuses an impossible value per sample with the reason (its client can correct
itself) and stores an out-of-range one as uncertain, as every source does; a station or a broker
cannot be told, so their impossible values are stored as bad, never as good.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

from core.config.schema import Tag
from core.model import Quality, Sample

MAX_MAGNITUDE = 1e15
UNCERTAIN_EU_EXCEEDED = 0x40940000
BAD_OUT_OF_RANGE = 0x803C0000

Bounds = dict[str, tuple[float, float]]

# Times the stores can hold: from 1970 (a year-1 stamp broke the historians; a day of margin for
# the zones east of UTC) to 9999
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def bounds_of(tags: list[Tag]) -> Bounds:
    """Each tag's configured range, for the hot path's one dict look-up."""
    return {tag.id: tag.range for tag in tags if tag.range is not None}


def why_implausible(value: float) -> str:
    """The reason ``value`` is no measurement at all, or "" when it may be one."""
    if not math.isfinite(value):
        return "value: must be a finite number"
    if abs(value) > MAX_MAGNITUDE:
        return f"value: {value:g} is not a measurement (beyond ±{MAX_MAGNITUDE:g})"
    return ""


def judged(sample: Sample, bounds: tuple[float, float] | None) -> Sample:
    """``sample`` as the historian must keep it: a good value out of range is uncertain, an
    impossible one bad (its value kept out of every aggregate). Every source calls it for every
    sample: the usual case costs two comparisons."""
    value = sample.value
    if -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE and (bounds is None or bounds[0] <= value <= bounds[1]):
        return sample
    if sample.quality is Quality.BAD or value != value:
        return sample
    if math.isinf(value) or abs(value) > MAX_MAGNITUDE:
        return replace(sample, value=math.nan, quality=Quality.BAD, status=BAD_OUT_OF_RANGE)
    if sample.quality is Quality.GOOD:
        return replace(sample, quality=Quality.UNCERTAIN, status=UNCERTAIN_EU_EXCEEDED)
    return sample
