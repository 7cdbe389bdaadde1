"""The bus: listeners are isolated and unsubscribe cleanly."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from core.bus import SAMPLES, STATION_STATUS, Bus
from core.model import Sample

SAMPLE = Sample("a.level", datetime(2026, 1, 1, tzinfo=UTC), 1.0)


def test_a_listener_that_raises_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    bus, got = Bus(), []

    def broken(_batch: object) -> None:
        raise RuntimeError("view crashed")

    bus.subscribe(SAMPLES, broken)
    bus.subscribe(SAMPLES, got.append)
    with caplog.at_level(logging.ERROR):
        bus.publish(SAMPLES, [SAMPLE])
    assert got == [[SAMPLE]]
    assert bus.errors == 1 and "view crashed" in caplog.text


def test_unsubscribe_stops_delivery_and_topics_are_separate() -> None:
    bus, got = Bus(), []
    unsubscribe = bus.subscribe(SAMPLES, got.append)
    bus.publish(STATION_STATUS, "ignored")  # type: ignore[arg-type]
    bus.publish(SAMPLES, [SAMPLE])
    unsubscribe()
    unsubscribe()  # idempotent
    bus.publish(SAMPLES, [SAMPLE])
    assert got == [[SAMPLE]]
