"""Level 3 — trends: several tags, one axis per unit, history plus live values, limits drawn.

History comes from the historian's downsampled query (min/max/avg per bucket, a few points per
pixel), loaded in a task so the UI never waits; the min–max band keeps every peak visible
whatever the zoom. Live samples extend the curves while the range ends at "now".
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.config.roles import dam_tags
from core.config.schema import Tag
from core.model import Bucket, Sample
from core.runtime import Runtime
from hmi.bridge import Bridge
from hmi.i18n import language, number, tr
from hmi.style import Theme
from hmi.widgets.crest import crest_path
from hmi.widgets.series import Series
from hmi.widgets.timeaxis import site_time_axis

PRESETS = (("1 h", timedelta(hours=1)), ("6 h", timedelta(hours=6)), ("24 h", timedelta(hours=24)),
           ("7 d", timedelta(days=7)))  # fmt: skip
# A live tail longer than this (or than the points of the history shown) is folded back into the
# historian's downsampled buckets: a 6 h trend reloads about every 40 min at 1 Hz, a 1 h one hourly.
_LIVE_POINTS = 3_600
PALETTE = {
    "day": ("#1f4e79", "#7a3b00", "#2e6b30", "#5b2c6f", "#6b6b00", "#00606b"),
    "night": ("#8fb8de", "#f0a868", "#8fd18f", "#c49fdc", "#e0e070", "#70d0dc"),
}


class TrendsView(QWidget):
    def __init__(self, runtime: Runtime, bridge: Bridge, theme: Theme) -> None:
        super().__init__()
        self.runtime, self.theme = runtime, theme
        self.tags = {tag.id: tag for tag in runtime.config.tags if tag.kind.value == "analog"}
        self.span = timedelta(hours=6)
        self.end: datetime | None = None  # None: live, the range ends now
        self.series: dict[str, Series] = {}
        self.picker = QListWidget()
        self.picker.setMinimumWidth(300)
        for station in runtime.config.stations:
            header = QListWidgetItem(station.name)
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            self.picker.addItem(header)
            for tag in runtime.config.tags_of(station.id):
                if tag.id in self.tags:
                    unit = f" ({tag.unit})" if tag.unit else ""
                    item = QListWidgetItem(f"   {tag.label.get(language())}{unit}")
                    item.setData(Qt.ItemDataRole.UserRole, tag.id)
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Unchecked)
                    self.picker.addItem(item)
        self.picker.itemChanged.connect(lambda _item: self.reload())
        axis = site_time_axis(runtime.config.site.timezone, named=True)
        self.plot = pg.PlotWidget(axisItems={"bottom": axis}, background=theme.panel)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend()
        self.right = pg.ViewBox()
        self.plot.plotItem.showAxis("right")
        self.plot.plotItem.scene().addItem(self.right)
        self.plot.plotItem.getAxis("right").linkToView(self.right)
        self.right.setXLink(self.plot.plotItem)
        self.plot.plotItem.vb.sigResized.connect(self._align_right_axis)
        self.units: list[str] = []
        self.limit_lines: list[pg.InfiniteLine] = []
        self.crosshair = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(theme.muted, style=Qt.PenStyle.DashLine)
        )
        self.plot.addItem(self.crosshair, ignoreBounds=True)
        self.readout = QLabel("")
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        buttons = QHBoxLayout()
        for label, span in PRESETS:
            button = QPushButton(label)
            button.clicked.connect(lambda _checked=False, s=span: self.set_range(s))
            buttons.addWidget(button)
        buttons.addStretch(1)
        for text, slot in ((tr("Export CSV…"), self._export_csv), (tr("Export PNG…"), self._export_png)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        right = QVBoxLayout()
        right.addLayout(buttons)
        right.addWidget(self.plot, 1)
        right.addWidget(self.readout)
        layout = QHBoxLayout(self)
        layout.addWidget(self.picker, 1)
        layout.addLayout(right, 3)
        bridge.samples.connect(self._live)
        bridge.crest.connect(lambda _crest: self._draw_forecast())
        self.forecast_items: list[pg.GraphicsObject] = []
        self.forecast_end: datetime | None = None  # the predicted crest's time, when one is drawn
        self._loading: asyncio.Task[None] | None = None
        # live, the range ends now and slides with it; a drag or a zoom by the operator pauses
        # it where they left it (a preset button goes live again)
        self.plot.plotItem.vb.sigRangeChangedManually.connect(self._paused)
        self._follow = QTimer(self)
        self._follow.setInterval(1000)
        self._follow.timeout.connect(self._slide)
        self._follow.start()

    def _align_right_axis(self) -> None:
        self.right.setGeometry(self.plot.plotItem.vb.sceneBoundingRect())

    # -- what is shown --------------------------------------------------------------------

    def selected(self) -> list[str]:
        items = [self.picker.item(i) for i in range(self.picker.count())]
        return [
            item.data(Qt.ItemDataRole.UserRole)
            for item in items
            if item.data(Qt.ItemDataRole.UserRole) and item.checkState() == Qt.CheckState.Checked
        ]

    def show_tags(self, tag_ids: list[str]) -> None:
        """Check exactly ``tag_ids`` (e.g. from a click on a value elsewhere) and load them."""
        self.picker.blockSignals(True)
        for i in range(self.picker.count()):
            item = self.picker.item(i)
            if not item.data(Qt.ItemDataRole.UserRole):
                continue  # a station heading
            wanted = item.data(Qt.ItemDataRole.UserRole) in tag_ids
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
        self.picker.blockSignals(False)
        self.reload()

    def set_range(self, span: timedelta, end: datetime | None = None) -> None:
        self.span, self.end = span, end
        self.reload()

    def reload(self) -> None:
        """Rebuild the series and load their history in the background."""
        for series in self.series.values():
            for item in (series.curve, series.band):
                series.view.removeItem(item)
        for line in self.limit_lines:
            self.plot.removeItem(line)
        self.series, self.limit_lines, self.units = {}, [], []
        for index, tag_id in enumerate(self.selected()):
            tag = self.tags[tag_id]
            if tag.unit not in self.units:
                self.units.append(tag.unit)
            view = self.plot.plotItem.vb if self.units.index(tag.unit) == 0 else self.right
            palette = PALETTE[self.theme.name]
            self.series[tag_id] = Series(tag, palette[index % len(palette)], view)
            if view is self.plot.plotItem.vb:
                self._draw_limits(tag)
        self._draw_forecast()
        self.plot.plotItem.getAxis("left").setLabel(self.units[0] if self.units else "")
        self.plot.plotItem.getAxis("right").setLabel(" / ".join(self.units[1:]))
        if self._loading is not None:
            self._loading.cancel()
        self._loading = asyncio.ensure_future(self.load())

    def _draw_limits(self, tag: Tag) -> None:
        """The alarm limits dotted; on a dam's level, its spillway sill and PHE solid."""
        marks = [
            (kind, value, Qt.PenStyle.DotLine) for kind, value in self.runtime.board.limits(tag.id).items()
        ]
        station = self.runtime.config.station(tag.station)
        reservoir = station.reservoir if station else None
        if reservoir is not None and dam_tags(self.runtime.config, tag.station).get("level") == tag.id:
            if reservoir.spillway is not None:
                marks.append((tr("Spillway sill"), reservoir.spillway.crest_m, Qt.PenStyle.SolidLine))
            if reservoir.phe_m is not None:
                marks.append((tr("PHE"), reservoir.phe_m, Qt.PenStyle.SolidLine))
        for kind, value, style in marks:
            label = f"{kind} {number(value, tag.decimals)} {tag.unit}".strip()
            pen = pg.mkPen(self.theme.muted, style=style)
            # the name sits above its line from the left edge, in the plot, never under the axis
            options = {"position": 0.01, "anchors": [(0, 1), (0, 1)], "color": self.theme.muted}
            line = pg.InfiniteLine(pos=value, angle=0, label=label, pen=pen, labelOpts=options)
            self.plot.addItem(line)
            self.limit_lines.append(line)

    def _draw_forecast(self) -> None:
        """On a dam's level, where its crest forecast says the water is going (hmi/widgets/crest.py)."""
        for item in self.forecast_items:
            self.plot.removeItem(item)
        self.forecast_items, self.forecast_end = [], None
        for tag_id in self.selected():
            tag = self.tags[tag_id]
            if dam_tags(self.runtime.config, tag.station).get("level") != tag_id or tag.unit != self.units[0]:
                continue
            drawn = crest_path(
                self.runtime.board.crest(tag.station), tag, self.theme, self.runtime.config.site.timezone
            )
            if drawn is None:
                continue
            items, until = drawn
            for item in items:
                self.plot.addItem(item)
            self.forecast_items += items
            self.forecast_end = max(self.forecast_end or until, until)

    def _right_edge(self, end: datetime) -> datetime:
        """Live, the range reaches the predicted crest too (a little beyond, for its words)."""
        if self.end is None and self.forecast_end is not None and self.forecast_end > end:
            return self.forecast_end + timedelta(minutes=10)
        return end

    async def load(self) -> None:
        end = self.end or self.runtime.clock.now()
        start = end - self.span
        points = max(200, self.plot.width() * 2)
        for tag_id, series in list(self.series.items()):
            buckets = await self.runtime.board.downsampled(tag_id, start, end, points)
            breaks = await self._breaks(tag_id, buckets, (end - start) / points)
            if self.series.get(tag_id) is series:
                series.set_history(buckets, breaks, until=end.timestamp())
        self.plot.setXRange(start.timestamp(), self._right_edge(end).timestamp(), padding=0)

    async def _breaks(self, tag_id: str, buckets: Sequence[Bucket], width: timedelta) -> list[float]:
        """Where the line must stop: holes between buckets in which the historian holds a loss
        marker. A hole without one is a steady value (a station reports changes only)."""
        breaks = []
        for before, after in pairwise(buckets):
            hole_start, hole_end = before.start + width, after.start
            if hole_end - hole_start >= 2 * width and await self.runtime.board.lost(
                tag_id, hole_start, hole_end
            ):
                breaks.append(hole_start.timestamp())
        return breaks

    def _live(self, batch: Sequence[Sample]) -> None:
        if self.end is not None or not self.series:
            return
        by_series: dict[str, list[Sample]] = {}
        for sample in batch:
            if sample.tag in self.series:
                by_series.setdefault(sample.tag, []).append(sample)
        for tag_id, samples in by_series.items():
            self.series[tag_id].extend(samples)
        longest = max(series.live for series in self.series.values())
        if longest > _LIVE_POINTS and (self._loading is None or self._loading.done()):
            self._loading = asyncio.ensure_future(self.load())  # fold the tail into history

    def _slide(self) -> None:
        """Live: keep the range ending now (once a second, not once a sample)."""
        if self.end is None and self.series and self.isVisible():
            end = self.runtime.clock.now()
            self.plot.setXRange((end - self.span).timestamp(), self._right_edge(end).timestamp(), padding=0)

    def _paused(self, *_args: object) -> None:
        if self.end is None:
            right = self.plot.plotItem.vb.viewRange()[0][1]
            self.end = datetime.fromtimestamp(right, UTC)

    @property
    def live(self) -> bool:
        """Whether the range follows now (a preset button after a pause makes it so again)."""
        return self.end is None

    def _mouse_moved(self, position: object) -> None:
        view = self.plot.plotItem.vb
        if not self.series or not self.plot.sceneBoundingRect().contains(position):
            return
        x = view.mapSceneToView(position).x()
        self.crosshair.setPos(x)
        self.readout.setText(self.readout_at(x))

    def readout_at(self, x: float) -> str:
        when = datetime.fromtimestamp(x, ZoneInfo(self.runtime.config.site.timezone)).strftime(
            "%d/%m %H:%M:%S"
        )
        parts = [when]
        for series in self.series.values():
            value = series.value_at(x)
            text = "—" if value is None else f"{number(value, series.tag.decimals)} {series.tag.unit}"
            parts.append(f"{series.tag.label.fr}: {text}")
        return "   ".join(parts)

    # -- export ---------------------------------------------------------------------------

    def export_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["tag", "start", "min", "max", "avg", "last", "count"])
            for tag_id, series in self.series.items():
                for b in series.buckets:
                    writer.writerow([tag_id, b.start.isoformat(), b.min, b.max, b.avg, b.last, b.count])

    def export_png(self, path: Path) -> None:
        self.plot.grab().save(str(path))

    def _export_csv(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("Export CSV…"), "trend.csv", "CSV (*.csv)")
        if name:
            self.export_csv(Path(name))

    def _export_png(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("Export PNG…"), "trend.png", "PNG (*.png)")
        if name:
            self.export_png(Path(name))
