"""The API's answers: the model's samples, alarms and journal entries in their REST shapes, CSV.

One mapping per shape, shared by every router (and, for alarms, with the event stream).
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any, Literal

from fastapi.responses import Response

from core.alarms.view import AlarmView
from core.api import schemas as s
from core.model import AlarmEvent, Priority, Sample
from core.site.wire import alarm_json
from core.storage.tokens import Token


def via(comment: str, token: Token) -> str:
    """Record which API client carried out an operator action, beside the operator's words; a
    signed-in operator's words stand alone (the journal has their name, the audit the session)."""
    if token.user is not None:
        return comment
    return f"{comment} (API: {token.name})" if comment else f"(API: {token.name})"


def number(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else repr(value)


def csv_response(header: list[str], rows: Any) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


def sample_out(sample: Sample) -> s.SampleOut:
    value = None if math.isnan(sample.value) else sample.value
    quality: Literal["good", "uncertain", "bad"] = sample.quality.name.lower()  # type: ignore[assignment]
    return s.SampleOut(tag=sample.tag, ts=sample.ts, value=value, quality=quality)


def priority_word(p: Priority) -> Literal["critical", "high", "medium", "low"]:
    name: Literal["critical", "high", "medium", "low"] = p.name.lower()  # type: ignore[assignment]
    return name


def finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def alarm_out(a: AlarmView) -> s.AlarmOut:
    """The REST shape of an alarm: the same fields the event stream sends (one mapping)."""
    return s.AlarmOut.model_validate(alarm_json(a))


def entry_out(e: AlarmEvent) -> s.JournalEntry:
    return s.JournalEntry(
        ts=e.ts, alarm=e.alarm, tag=e.tag, action=e.action, status=e.status.value, active=e.active,
        priority=priority_word(e.priority), value=finite(e.value), limit=e.limit, message_fr=e.message_fr,
        message_en=e.message_en, user=e.user, comment=e.comment, server=e.origin or None,
    )  # fmt: skip
