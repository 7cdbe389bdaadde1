"""One time zone on every chart: the site's (``site.timezone``), as in the alarm list and journal."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pyqtgraph as pg

from core.model import utcnow


def site_time_axis(timezone: str) -> pg.DateAxisItem:
    """A date axis in the site's local time (its offset now; pyqtgraph takes one offset)."""
    offset = utcnow().astimezone(ZoneInfo(timezone)).utcoffset() or timedelta(0)
    return pg.DateAxisItem(utcOffset=-offset.total_seconds())
