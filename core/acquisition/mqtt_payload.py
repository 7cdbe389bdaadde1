"""Reading one MQTT payload into a value and its measure time: pure, no broker, no clock.

A tag's mapping (``mqtt: {topic, value, time}``) says where its number and its time are in the
payload: JSON paths such as ``$.mm`` and ``$.ts``, or neither when the payload is the number
itself. Everything a gauge can send wrong is a :class:`Unreadable` with the kind (a key for
"log once") and a sentence that locates it; the link counts it and acknowledges the message.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from core.acquisition.plausible import why_implausible
from core.config.schema import Tag, json_path
from core.model import as_utc


class Unreadable(Exception):
    """A payload that cannot become a sample; ``kind`` groups the log lines (one a kind)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Mapping:
    """One tag's reading of its topic's payload."""

    __slots__ = ("raw", "tag", "time", "value")

    def __init__(self, tag: Tag) -> None:
        assert tag.mqtt is not None  # the config check: an mqtt station's tags have one
        self.tag = tag
        self.value = json_path(tag.mqtt.value)
        self.time = json_path(tag.mqtt.time) if tag.mqtt.time is not None else None
        self.raw = not self.value and self.time is None  # the payload is the number itself

    def read(self, payload: Any) -> tuple[float, datetime | None]:
        """The value and the measure time (None: the payload gives none) or :class:`Unreadable`."""
        tag = self.tag
        if isinstance(payload, str):
            payload = payload.encode()
        if not isinstance(payload, bytes | bytearray):
            raise Unreadable("type", f"a payload of {type(payload).__name__}")
        try:
            if self.raw:
                value: Any = float(payload)
                when: Any = None
            else:
                document = json.loads(payload)
                value = _at(document, self.value)
                when = _at(document, self.time) if self.time is not None else None
        except (ValueError, UnicodeDecodeError, RecursionError) as err:
            raise Unreadable("parse", f"cannot read {bytes(payload[:80])!r}: {err}") from None
        except (KeyError, IndexError, TypeError):
            wanted = tag.mqtt.value if tag.mqtt else "$"
            raise Unreadable("path", f"{bytes(payload[:80])!r} has no {wanted}") from None
        return _number(value), None if when is None else _time(when)


def _at(document: Any, steps: list[str | int]) -> Any:
    for step in steps:
        document = document[step]  # KeyError, IndexError, TypeError: the payload does not fit
    return document


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:  # a 401-digit integer is valid JSON, and too large for a float
        number = float(value) if isinstance(value, int | float) else math.nan
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise Unreadable("value", f"{shown(value)} is not a finite number")
    impossible = why_implausible(number)
    if impossible:
        raise Unreadable("value", impossible)
    return number


def _time(when: Any) -> datetime:
    try:
        stamped = datetime.fromisoformat(when)
        if stamped.tzinfo is None:
            raise ValueError("no time zone")
    except (TypeError, ValueError) as err:
        raise Unreadable("time", f"{when!r} is no ISO 8601 time with a zone: {err}") from None
    try:
        return as_utc(stamped)
    except OverflowError:  # year 1 at +14:00, or 9999-12-31 at -14:00: no datetime holds it in UTC
        raise Unreadable("old", f"{when!r} is outside 1970–9999: not stored") from None


def shown(payload: Any) -> str:
    """A payload as a log line can carry it: the first 80 characters."""
    text = repr(payload)
    return text if len(text) <= 80 else text[:80] + "…"
