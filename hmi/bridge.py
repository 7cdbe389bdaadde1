"""The bus seen from Qt: core events become Qt signals, UI commands go back to the core.

qasync runs asyncio inside Qt's event loop, so bus listeners already run in the GUI thread:
the bridge only re-emits. Views connect to these signals and never subscribe to the bus
themselves, so unsubscribing on close is in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from core.bus import CRESTS, FORECASTS, SAMPLES, STATION_STATUS
from core.model import AlarmEvent, CrestForecast, ForecastValue, Sample, StationStatus
from core.runtime import Runtime


class Bridge(QObject):
    samples = Signal(object)  # Sequence[Sample]
    station = Signal(object)  # StationStatus
    alarm = Signal(object)  # AlarmEvent, or None when the whole alarm picture changed
    forecast = Signal(object)  # ForecastValue
    crest = Signal(object)  # CrestForecast

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        bus = runtime.bus
        self._unsubscribe = [
            bus.subscribe(SAMPLES, self._on_samples),
            bus.subscribe(STATION_STATUS, self._on_station),
            runtime.board.subscribe(self._on_alarm),  # the server's alarms, or this process's
            bus.subscribe(FORECASTS, self._on_forecast),
            bus.subscribe(CRESTS, self._on_crest),
        ]

    def _on_samples(self, batch: Sequence[Sample]) -> None:
        self.samples.emit(batch)

    def _on_station(self, status: StationStatus) -> None:
        self.station.emit(status)

    def _on_alarm(self, event: AlarmEvent | None) -> None:
        self.alarm.emit(event)

    def _on_forecast(self, forecast: ForecastValue) -> None:
        self.forecast.emit(forecast)

    def _on_crest(self, crest: CrestForecast) -> None:
        self.crest.emit(crest)

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
