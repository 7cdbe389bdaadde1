"""In-process publish/subscribe between acquisition, historian, alarms and views.

Listeners run synchronously in the event loop, in subscription order. One that raises is
logged and skipped: a broken view or channel never stops acquisition (DESIGN rule 6).
Samples travel in batches (a tuple per publish) because per-sample dispatch would cost more
than the acquisition itself at 10,000 notifications per second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from core.model import AlarmEvent, CrestForecast, ForecastValue, Sample, StationStatus

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")


class Topic(Generic[T]):
    """A named channel carrying payloads of one type."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Topic({self.name!r})"


class Stored(tuple[Sample, ...]):
    """A batch its producer already handed to the historian (a REST post answered once durable,
    an MQTT batch acknowledged to the broker once stored): the runtime's storage listener skips it."""


SAMPLES: Topic[Sequence[Sample]] = Topic("samples")
"""Live samples, in arrival order: views, alarm rules and the historian."""
BACKFILL: Topic[Sequence[Sample]] = Topic("backfill")
"""Old samples recovered after a gap (station history): for the historian only."""
STATION_STATUS: Topic[StationStatus] = Topic("station_status")
ALARMS: Topic[AlarmEvent] = Topic("alarms")
"""Every accepted alarm transition (raised, returned, acknowledged, shelved…)."""
FORECASTS: Topic[ForecastValue] = Topic("forecasts")
"""Predicted time to a threshold, for the HMI."""
CRESTS: Topic[CrestForecast] = Topic("crests")
"""Each dam's crest forecast, routed through its reservoir, about once a minute of station time."""

Listener = Callable[[T], Any]


class Bus:
    """Synchronous, isolated publish/subscribe keyed by :class:`Topic`."""

    def __init__(self) -> None:
        self._listeners: dict[Topic[Any], list[Callable[[Any], Any]]] = {}
        self.errors = 0

    def subscribe(self, topic: Topic[T], listener: Listener[T]) -> Callable[[], None]:
        """Register ``listener`` for ``topic``; return the callable that unsubscribes it."""
        listeners = self._listeners.setdefault(topic, [])
        listeners.append(listener)

        def unsubscribe() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return unsubscribe

    def publish(self, topic: Topic[T], payload: T) -> None:
        """Deliver ``payload`` to every listener of ``topic``, isolating failures."""
        for listener in tuple(self._listeners.get(topic, ())):
            try:
                listener(payload)
            except Exception:
                self.errors += 1
                _LOGGER.exception("listener %r of %s raised; other listeners still run", listener, topic)
