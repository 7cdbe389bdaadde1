"""The event stream's numbering: resume with what was missed, or a snapshot when that is gone."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from core.bus import SAMPLES, STATION_STATUS, Bus
from core.model import ConnectionState, Sample, StationStatus, utcnow
from core.site.stream import EventStream, Filter


def stream(keep: int = 100) -> tuple[Bus, EventStream]:
    bus = Bus()
    engine: Any = SimpleNamespace(alarms={})
    snapshot = lambda wanted: {"alarms": [], "stations": [], "latest": []}  # noqa: E731
    return bus, EventStream(bus, engine, lambda tag: tag.split(".")[0], snapshot, keep=keep)


def publish(bus: Bus, n: int, tag: str = "dam.level") -> None:
    for i in range(n):
        bus.publish(SAMPLES, [Sample(tag, utcnow(), float(i))])


def test_a_client_that_resumes_gets_exactly_what_it_missed() -> None:
    bus, events = stream()
    publish(bus, 5)
    _, first = events.subscribe(Filter(), events.epoch, 2)
    assert [m["type"] for m in first] == ["hello", "samples", "samples", "samples"]
    assert [m["seq"] for m in first[1:]] == [3, 4, 5]


def test_too_far_behind_or_another_epoch_gets_a_snapshot() -> None:
    bus, events = stream(keep=3)
    publish(bus, 10)
    _, behind = events.subscribe(Filter(), events.epoch, 2)
    assert [m["type"] for m in behind] == ["hello", "snapshot"] and behind[1]["seq"] == 10
    _, restarted = events.subscribe(Filter(), "another-run", 9)
    assert restarted[1]["type"] == "snapshot"


def test_filters_keep_one_station_and_live_events_follow_in_order() -> None:
    bus, events = stream()
    subscriber, _ = events.subscribe(Filter(stations=frozenset({"dam"})), None, None)
    publish(bus, 1, "other.level")
    publish(bus, 1, "dam.level")
    bus.publish(STATION_STATUS, StationStatus("other", ConnectionState.CONNECTED, utcnow()))
    bus.publish(STATION_STATUS, StationStatus("dam", ConnectionState.CONNECTED, utcnow()))
    got = [json.loads(subscriber.queue.get_nowait()) for _ in range(subscriber.queue.qsize())]
    assert [(m["type"], m["seq"]) for m in got] == [("samples", 2), ("station", 4)]


def test_a_client_that_cannot_keep_up_is_dropped_not_waited_for_and_its_texts_freed() -> None:
    bus = Bus()
    engine: Any = SimpleNamespace(alarms={})
    events = EventStream(bus, engine, lambda tag: tag.split(".")[0], lambda _: {}, client_bytes=10_000)
    slow, _ = events.subscribe(Filter(), None, None)
    fast, _ = events.subscribe(Filter(), None, None)
    for _ in range(200):  # about 90 bytes a message: over 10 kB after about 110
        publish(bus, 1)
        while not fast.queue.empty():
            fast.queue.get_nowait()
        fast.queued_bytes = 0
    assert slow.dropped and not fast.dropped
    assert events.clients == 1 and events.dropped == 1
    assert slow.queued_bytes == 0 and [slow.queue.get_nowait()] == [""]  # freed; "" wakes its socket


def test_the_ring_is_bounded_by_bytes_not_by_events() -> None:
    bus = Bus()
    engine: Any = SimpleNamespace(alarms={})
    events = EventStream(bus, engine, lambda tag: tag.split(".")[0], lambda _: {}, ring_bytes=1_000_000)
    now = utcnow()
    for _ in range(100):  # 100 batches of 1,000 samples: about 16 MB held without a bound
        bus.publish(SAMPLES, [Sample(f"dam.t{i}", now, 1.0) for i in range(1000)])
    assert events.ring_bytes <= 1_000_000 and events.events == 6
    _, far = events.subscribe(Filter(), events.epoch, 50)
    assert far[1]["type"] == "snapshot"  # what the ring let go is given as a snapshot
    _, near = events.subscribe(Filter(), events.epoch, 97)
    assert [m["seq"] for m in near[1:]] == [98, 99, 100]
