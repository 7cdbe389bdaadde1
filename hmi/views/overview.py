"""Level 1 — every dam on one screen: level gauge with its limits, flows, trend, forecast, alarms.

A calm screen means everything is normal: the cards are grey. A dam that needs attention stands
out at a glance: its card takes its worst alarm's colour as a thick border and a band with the
priority's shape, word and count (solid while unacknowledged), and the dams are ordered by
urgency, the worst first; a lost link is written out.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.config.roles import dam_tags
from core.config.schema import Station
from core.model import AlarmEvent, CrestForecast, ForecastValue, Priority, Quality, Sample, StationStatus
from core.runtime import Runtime
from core.words import clock, span
from hmi.bridge import Bridge
from hmi.i18n import number, tr
from hmi.style import PRIORITY_COLOUR, PRIORITY_SHAPE, Theme
from hmi.widgets.gauge import LevelGauge
from hmi.widgets.link import link_reason, link_text

SPARK_POINTS = 720  # 6 h at one point every 30 s


def priority_word(priority: object) -> str:
    words = {"CRITICAL": tr("critical"), "HIGH": tr("high"), "MEDIUM": tr("medium"), "LOW": tr("low")}
    return words[getattr(priority, "name", "LOW")]


class DamCard(QFrame):
    """One dam: click to open its details."""

    clicked = Signal(str)

    def __init__(self, runtime: Runtime, station: Station, theme: Theme) -> None:
        super().__init__()
        self.setObjectName("card")
        self.runtime, self.station, self.theme = runtime, station, theme
        self.roles = dam_tags(runtime.config, station.id)
        self.level_tag = self.roles.get("level", "")
        self.role_by_tag = {tag: role for role, tag in self.roles.items()}
        level = runtime.config.tag(self.level_tag)
        low, high = level.range if level and level.range else (0.0, 20.0)
        self.gauge = LevelGauge(
            theme, low, high, level.unit if level else "m", level.decimals if level else 2
        )
        self.gauge.limits = runtime.board.limits(self.level_tag)
        self.title = QLabel(station.name)
        self.title.setObjectName("title")
        self.link = QLabel()
        self.alarms = QLabel()
        self.alarms.setObjectName("band")
        self.urgency: tuple[int, int] = (1, 99)  # (0 if unacknowledged, worst priority): lower is worse
        self.values: dict[str, QLabel] = {}
        self._crested = False  # a crest forecast came: the slope's guess is no longer shown
        self.crest_at = math.inf  # when the rising water is expected to crest (POSIX s): ties' order
        grid = QGridLayout()
        for row, (key, label) in enumerate(
            (("fill", tr("Fill")), ("rate", tr("Rising")), ("crest", tr("Expected crest")),
             ("inflow", tr("Inflow")), ("outflow", tr("Outflow")), ("rain", tr("Rain")))
        ):  # fmt: skip
            name = QLabel(label)
            name.setObjectName("muted")
            value = QLabel("—")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self.values[key] = value
        self.spark = pg.PlotWidget(background=None)
        self.spark.setFixedHeight(90)
        self.spark.hideAxis("bottom")
        axis = self.spark.getAxis("left")  # a scale: a sparkline without one cannot be read
        axis.setWidth(34)
        axis.setTextPen(pg.mkPen(theme.muted))
        axis.setPen(pg.mkPen(theme.structure))
        self.spark_caption = QLabel(
            tr("Level, last 6 h") + (f" ({level.unit})" if level and level.unit else "")
        )
        self.spark_caption.setObjectName("muted")
        self.spark.setMouseEnabled(False, False)
        self.spark.setMenuEnabled(False)
        self.curve = self.spark.plot(pen=pg.mkPen(theme.text, width=1))
        self.curve.setDownsampling(auto=True, method="peak")
        self.history: deque[tuple[float, float]] = deque(maxlen=SPARK_POINTS)
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.link)
        layout.addLayout(header)
        layout.addWidget(self.alarms)
        body = QHBoxLayout()
        body.addWidget(self.gauge)
        body.addLayout(grid, 1)
        layout.addLayout(body)
        layout.addWidget(self.spark)
        layout.addWidget(self.spark_caption)
        layout.addStretch(1)
        self.refresh_station(runtime.stations[station.id])
        self.refresh_alarms()
        crest = runtime.board.crest(station.id)
        if crest is not None:
            self.show_crest(crest)
        for tag_id in (
            self.level_tag,
            *(self.roles[k] for k in ("inflow", "outflow", "rain", "volume") if k in self.roles),
        ):
            sample = runtime.latest.get(tag_id)
            if sample is not None:
                self.show_sample(sample)

    def mousePressEvent(self, event: object) -> None:
        self.clicked.emit(self.station.id)

    def _format(self, tag_id: str, sample: Sample) -> str:
        tag = self.runtime.config.tag(tag_id)
        if tag is None:
            return "—"
        if sample.quality is Quality.BAD or math.isnan(sample.value):
            return tr("invalid")
        text = f"{number(sample.value, tag.decimals)} {tag.unit}"
        return text if sample.quality is Quality.GOOD else f"{text} (?)"

    def show_sample(self, sample: Sample) -> None:
        key = self.role_by_tag.get(sample.tag)
        valid = sample.quality is not Quality.BAD and not math.isnan(sample.value)
        if sample.tag == self.level_tag:
            self.gauge.set_value(sample.value, valid)
            if valid:
                self.history.append((sample.ts.timestamp(), sample.value))
                xs, ys = zip(*self.history, strict=True)
                self.curve.setData(list(xs), list(ys))
                limits = self.gauge.limits
                crest = limits.get("HHH") or limits.get("HH") or self.gauge.high
                share = (sample.value - self.gauge.low) / ((crest - self.gauge.low) or 1.0)
                self.values["fill"].setText(f"{share * 100:.0f} %")
            else:
                self.values["fill"].setText(tr("invalid"))
        elif key is not None and key in self.values:
            self.values[key].setText(self._format(sample.tag, sample))

    def show_forecast(self, forecast: ForecastValue) -> None:
        """Without a crest forecast: the slope, and the time to the threshold it heads for."""
        if forecast.tag != self.level_tag or self._crested:
            return
        self._rate(forecast.rate_per_h)
        eta = forecast.eta_min
        value = self.values["crest"]
        if eta is None:
            value.setText("—")
        else:
            limit = number(forecast.threshold, self.gauge.decimals)
            value.setText(
                tr("{limit} {unit} in {eta} (slope)").format(
                    limit=limit, unit=self.gauge.unit, eta=span(eta * 60)
                )
                if eta > 0
                else tr("reached")
            )
        value.setToolTip(tr("No reservoir model for this dam: the level's present slope, extended."))

    def show_crest(self, crest: CrestForecast) -> None:
        """The crest the dam's forecast expects from the rain already fallen, and if it goes on."""
        if crest.tag != self.level_tag:
            return
        self._crested = True
        self._rate(crest.rate_per_h)
        stops, unit, decimals = crest.rain_stops, self.gauge.unit, self.gauge.decimals
        self.crest_at = stops.peak_at.timestamp() if stops.peak > crest.level else math.inf
        zone = ZoneInfo(self.runtime.config.site.timezone)
        value = self.values["crest"]
        if stops.peak <= crest.level:
            value.setText(tr("passed, now falling") if (crest.rate_per_h or 0) < 0 else tr("now"))
        else:
            value.setText(
                tr("{peak} {unit} about {time}").format(
                    peak=number(stops.peak, decimals), unit=unit, time=clock(stops.peak_at, zone)
                )
            )
        tip = [
            tr("From the rain already fallen: {low} to {high} {unit}.").format(
                low=number(stops.low, decimals), high=number(stops.high, decimals), unit=unit
            )
        ]
        more = crest.rain_continues
        if more is not None and more.rising_at_horizon:  # a floor, with no time to give
            floor = tr("If the rain goes on: at least {peak} {unit}, still rising where the forecast ends.")
            tip.append(floor.format(peak=number(more.peak, decimals), unit=unit))
        elif more is not None:
            tip.append(tr("If the rain goes on: {peak} {unit} about {time}.").format(
                peak=number(more.peak, decimals), unit=unit, time=clock(more.peak_at, zone)))  # fmt: skip
        phe_stops = tr("PHE {phe} {unit} reached about {time}.")
        phe_more = tr("If the rain goes on, PHE {phe} {unit} reached about {time}.")
        for outlook, said in ((stops, phe_stops), (more, phe_more)):
            reached = outlook.when(crest.phe) if outlook is not None and crest.phe is not None else None
            if reached is not None and crest.phe is not None:
                tip.append(said.format(phe=number(crest.phe, decimals), unit=unit, time=clock(reached, zone)))
                break
        if not crest.fitted:
            tip.append(tr("The catchment's answer is not learnt yet: the inflow is held as it is."))
        value.setToolTip("\n".join(tip))

    def _rate(self, rate: float | None) -> None:
        unit = self.gauge.unit
        self.values["rate"].setText(
            "—" if rate is None else f"{'+' if rate >= 0 else ''}{number(rate, 2)} {unit}/h"
        )

    def refresh_station(self, status: StationStatus) -> None:
        text, online = link_text(status, self.station.max_clock_skew_s)
        self.link.setText(text)
        self.link.setToolTip(link_reason(status, self.station.expected_period_s))
        self.link.setStyleSheet(
            "" if online else f"color: {PRIORITY_COLOUR[Priority.HIGH].name()}; font-weight: bold;"
        )

    def refresh_alarms(self) -> None:
        mine = [a for a in self.runtime.board.views() if a.station == self.station.id]
        if not mine:
            self.urgency = (1, 99)
            self.alarms.setText(tr("No alarm"))
            self.alarms.setStyleSheet(f"color: {self.theme.muted}; padding: 4px 0;")
            self.setStyleSheet("")
            return
        unacked = [a for a in mine if a.unacknowledged]
        worst = min(a.priority for a in (unacked or mine))
        self.urgency = (0 if unacked else 1, int(worst))
        colour = PRIORITY_COLOUR[worst].name()
        words = f"{PRIORITY_SHAPE[worst]} {priority_word(worst).upper()} — {len(mine)} " + tr("alarm(s)")
        if unacked:
            words += " · " + tr("{count} unacknowledged").format(count=len(unacked))
        self.alarms.setText(words)
        solid = (
            f"background: {colour}; color: white;"
            if unacked
            else f"color: {colour}; border: 2px solid {colour};"
        )
        self.alarms.setStyleSheet(
            f"{solid} font-weight: bold; font-size: 17px; padding: 6px; border-radius: 3px;"
        )
        self.setStyleSheet(f"QFrame#card {{ border: 4px solid {colour}; }}")


class OverviewView(QWidget):
    """All dams side by side (ISA-101 level 1)."""

    open_station = Signal(str)

    def __init__(self, runtime: Runtime, bridge: Bridge, theme: Theme) -> None:
        super().__init__()
        self.cards = {station.id: DamCard(runtime, station, theme) for station in runtime.config.stations}
        self.station_of = {tag.id: tag.station for tag in runtime.config.tags}
        self.layout_ = QHBoxLayout(self)
        self.order: list[str] = []
        for card in self.cards.values():
            card.clicked.connect(self.open_station)
        self._arrange()
        bridge.samples.connect(self._samples)
        bridge.station.connect(lambda status: self._card(status.station, "refresh_station", status))
        bridge.alarm.connect(self._alarm)
        bridge.forecast.connect(self._forecast)
        bridge.crest.connect(self._crest)
        self.runtime = runtime

    def _crest(self, crest: CrestForecast) -> None:
        self._card(crest.station, "show_crest", crest)
        self._arrange()  # two dams alike in alarm: the sooner crest first

    def _card(self, station: str, method: str, *args: object) -> None:
        card = self.cards.get(station)
        if card is not None:
            getattr(card, method)(*args)

    def _samples(self, batch: Sequence[Sample]) -> None:
        for sample in batch:
            card = self.cards.get(self.station_of.get(sample.tag, ""))
            if card is not None:
                card.show_sample(sample)

    def _forecast(self, forecast: ForecastValue) -> None:
        for card in self.cards.values():
            card.show_forecast(forecast)

    def _alarm(self, _event: AlarmEvent | None) -> None:
        for card in self.cards.values():
            card.refresh_alarms()
        self._arrange()

    def _arrange(self) -> None:
        """The dams by urgency: unacknowledged before acknowledged, then by worst priority, then
        the one whose water crests soonest; calm dams keep the site's order. Moved only when
        the order changes (no flicker)."""
        stations = list(self.cards)

        def urgency(station: str) -> tuple[int, int, float, int]:
            card = self.cards[station]
            calm = card.urgency == (1, 99)  # a crest forecast alone does not move a calm dam
            return (*card.urgency, math.inf if calm else card.crest_at, stations.index(station))

        order = sorted(stations, key=urgency)
        if order == self.order:
            return
        self.order = order
        for station in order:
            self.layout_.removeWidget(self.cards[station])
        for station in order:
            self.layout_.addWidget(self.cards[station])

    async def load_history(self) -> None:
        """Fill the sparklines with the last 6 hours from the historian (never blocks the UI)."""
        end = self.runtime.clock.now()
        for card in self.cards.values():
            if not card.level_tag:
                continue  # a station without a level: no sparkline
            buckets = await self.runtime.board.downsampled(card.level_tag, end - timedelta(hours=6), end, 360)
            for bucket in buckets:
                card.history.appendleft((bucket.start.timestamp(), bucket.last))
            if card.history:
                ordered = sorted(card.history)
                card.history = deque(ordered, maxlen=SPARK_POINTS)
                xs, ys = zip(*ordered, strict=True)
                card.curve.setData(list(xs), list(ys))
