"""A dam's predicted crest on a trend: the path its forecast routes (rain stopping now) up to
the crest, dashed, and the crest with its words — where the water is going, not only where it was.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pyqtgraph as pg
from PySide6.QtCore import Qt

from core.config.schema import Tag
from core.model import CrestForecast
from hmi.i18n import number, tr
from hmi.style import Theme


def crest_ahead(forecast: CrestForecast | None, tag: Tag, timezone: str) -> tuple[float, str] | None:
    """The crest still to come (rain stopping now) and its words, "Expected crest 13.61 m about
    05:40"; None without a forecast, past the crest or steady (the water itself says it)."""
    if forecast is None:
        return None
    stops = forecast.rain_stops
    if stops.peak <= forecast.level + 10**-tag.decimals:
        return None
    at = stops.peak_at.astimezone(ZoneInfo(timezone)).strftime("%H:%M")
    value = f"{number(stops.peak, tag.decimals)} {tag.unit}".strip()
    return stops.peak, tr("Expected crest {value} about {at}").format(value=value, at=at)


def crest_path(
    forecast: CrestForecast | None, tag: Tag, theme: Theme, timezone: str
) -> tuple[list[pg.GraphicsObject], datetime] | None:
    """The plot items and the crest's time, when a crest is still to come (``crest_ahead``)."""
    ahead = crest_ahead(forecast, tag, timezone)
    if forecast is None or ahead is None:
        return None
    stops, (peak, words) = forecast.rain_stops, ahead
    start, step, until = stops.start.timestamp(), stops.step_s, stops.peak_at.timestamp()
    xs = [start] + [start + step * (i + 1) for i in range(len(stops.path))]
    ys = [stops.start_level, *stops.path]
    kept = [(x, y) for x, y in zip(xs, ys, strict=True) if x <= until + step]
    pen = pg.mkPen(theme.text, width=2, style=Qt.PenStyle.DashLine)
    path = pg.PlotDataItem([x for x, _ in kept], [y for _, y in kept], pen=pen)
    crest = pg.ScatterPlotItem([until], [peak], size=10, brush=pg.mkBrush(theme.text))
    label = pg.TextItem(words, color=theme.text, anchor=(1, 1))
    label.setPos(until, peak)
    return [path, crest, label], stops.peak_at
