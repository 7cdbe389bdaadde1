"""One time zone on every chart: the site's (``site.timezone``), as in the alarm list and journal.

pyqtgraph writes day and month names with the C library's English; a French screen gets French
ones ("mer. 03", "déc."), like the rest of its words.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyqtgraph as pg

from core.model import utcnow
from hmi.i18n import language, tr

_FRENCH = {
    "Mon": "lun.", "Tue": "mar.", "Wed": "mer.", "Thu": "jeu.", "Fri": "ven.", "Sat": "sam.", "Sun": "dim.",
    "Jan": "janv.", "Feb": "févr.", "Mar": "mars", "Apr": "avr.", "May": "mai", "Jun": "juin",
    "Jul": "juil.", "Aug": "août", "Sep": "sept.", "Oct": "oct.", "Nov": "nov.", "Dec": "déc.",
}  # fmt: skip
_NAMES = re.compile(r"\b(" + "|".join(_FRENCH) + r")\b")


class SiteTimeAxis(pg.DateAxisItem):  # type: ignore[misc]
    """A date axis in the site's local time, with day and month names in the screen's language."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        strings: list[str] = super().tickStrings(values, scale, spacing)
        if language() != "fr":
            return strings
        return [_NAMES.sub(lambda m: _FRENCH[m[1]], text) for text in strings]


def site_time_axis(timezone: str, named: bool = False, **options: Any) -> SiteTimeAxis:
    """A date axis in the site's local time (its offset now; pyqtgraph takes one offset);
    ``named``: the axis says which time it is, e.g. "Heure de Paris (UTC+1)"."""
    offset = utcnow().astimezone(ZoneInfo(timezone)).utcoffset() or timedelta(0)
    axis = SiteTimeAxis(utcOffset=-offset.total_seconds(), **options)
    if named:
        axis.setLabel(zone_name(timezone, offset))
    return axis


def zone_name(timezone: str, offset: timedelta) -> str:
    """The site's time as a reader says it: "Heure de Paris (UTC+1)", "Paris time (UTC+1)"."""
    city = timezone.rsplit("/", 1)[-1].replace("_", " ")
    minutes = round(offset.total_seconds() / 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    utc = f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    return tr("{city} time ({utc})").format(city=city, utc=utc)
