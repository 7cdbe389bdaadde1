"""One tag on a trend: its curve, its min–max band and the buffer behind them (the trends view's)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from core.config.schema import Tag
from core.model import Bucket, Quality, Sample

_INITIAL_POINTS = 256


class Series:
    """One tag on the plot: its curve, min–max band and the data behind them.

    History (the historian's buckets) and live samples share one numpy buffer that doubles when
    full, so a live sample costs a write and one ``setData`` of views, not a copy of every point
    drawn so far (a trend left open for a week did that 600,000 times a second per tag). The
    live tail is counted so that the view can fold it back into downsampled history.
    """

    def __init__(self, tag: Tag, colour: str, view: pg.ViewBox) -> None:
        self.tag = tag
        # connect="finite": a NaN point (a lost link) breaks the line instead of bridging the gap
        self.curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=1), name=tag.label.fr, connect="finite")
        self.curve.setClipToView(True)
        self.curve.setDownsampling(auto=True, method="peak")
        self.low = pg.PlotDataItem(pen=None, connect="finite")
        self.high = pg.PlotDataItem(pen=None, connect="finite")
        self.band = pg.FillBetweenItem(self.low, self.high, brush=pg.mkBrush(colour + "40"))
        self.view = view
        for item in (self.band, self.curve):
            view.addItem(item)
        self._x = np.empty(_INITIAL_POINTS)
        self._y = np.empty(_INITIAL_POINTS)
        self.size = 0
        self.live = 0  # live points appended since the history was last set
        self.buckets: list[Bucket] = []

    @property
    def xs(self) -> np.ndarray:
        """Instants (epoch seconds) of the points drawn, in order."""
        return self._x[: self.size]

    @property
    def ys(self) -> np.ndarray:
        """Their values; NaN where the line stops (a lost link)."""
        return self._y[: self.size]

    def set_history(
        self, buckets: Sequence[Bucket], breaks: Sequence[float] = (), until: float = math.inf
    ) -> None:
        """``breaks``: instants where the link was lost (the line stops there, until data again).
        Live points after ``until`` (the end of the history asked for) are kept after it."""
        self.buckets = list(buckets)
        points = sorted([(b.start.timestamp(), b.avg, b.min, b.max) for b in buckets]
                        + [(t, math.nan, math.nan, math.nan) for t in breaks])  # fmt: skip
        keep = self.xs > until
        tail_x, tail_y = self.xs[keep], self.ys[keep]
        history = np.array(points, dtype=float).reshape(-1, 4)
        size = len(history) + len(tail_x)
        self._x = np.empty(max(_INITIAL_POINTS, 2 * size))
        self._y = np.empty_like(self._x)
        self._x[: len(history)], self._y[: len(history)] = history[:, 0], history[:, 1]
        self._x[len(history) : size], self._y[len(history) : size] = tail_x, tail_y
        self.size, self.live = size, len(tail_x)
        self.low.setData(history[:, 0], history[:, 2])
        self.high.setData(history[:, 0], history[:, 3])
        self.curve.setData(self.xs, self.ys)

    def extend(self, samples: Sequence[Sample]) -> None:
        """Append live samples of this tag; a loss marker stops the line there. A sample older
        than the last point drawn (a late one) is left to the next history load."""
        before = self.size
        for sample in samples:
            x = sample.ts.timestamp()
            if self.size and x < self._x[self.size - 1]:
                continue
            if sample.quality is Quality.BAD:  # the link's loss marker: the line stops here
                if self.size and not math.isnan(self._y[self.size - 1]):
                    self._push(x, math.nan)
                continue
            self._push(x, sample.value)
        if self.size != before:
            self.curve.setData(self.xs, self.ys)

    def _push(self, x: float, y: float) -> None:
        if self.size == len(self._x):
            self._x = np.concatenate([self._x, np.empty(len(self._x))])
            self._y = np.concatenate([self._y, np.empty(len(self._y))])
        self._x[self.size], self._y[self.size] = x, y
        self.size += 1
        self.live += 1

    def value_at(self, x: float) -> float | None:
        """The value at time ``x`` (the last one at or before it), for the cursor read-out."""
        index = int(np.searchsorted(self.xs, x, side="right")) - 1
        if index < 0:
            return None
        value = float(self._y[index])
        return None if math.isnan(value) else value  # after a loss marker: no value to read
