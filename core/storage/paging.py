"""How the paging stores keep the cascade's vocabulary (``core.notify.store``): one row codec
for SQLite and Cassandra, and an incident's alarm as JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from core.model import AlarmAction, AlarmEvent, AlarmStatus, Priority
from core.notify.store import Delivery, DeliveryKind, DeliveryState, Incident, IncidentState


def _t(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


# Both backends store an incident and a delivery as one row of these columns, in this order,
# with times as POSIX seconds: one codec for both.
INCIDENT_COLUMNS = "id, policy, state, opened_at, level, cycle, level_at, acked_by, acked_at, closed_at"
DELIVERY_COLUMNS = (
    "key, incident, kind, level, cycle, person, channel, state, attempts, detail, created_at, updated_at"
)


def incident_row(i: Incident) -> tuple[Any, ...]:
    return (i.id, i.policy, i.state.value, _t(i.opened_at), i.level, i.cycle, _t(i.level_at), i.acked_by,
            _t(i.acked_at), _t(i.closed_at))  # fmt: skip


def incident_from_row(row: Sequence[Any]) -> Incident:
    ident, policy, state, opened, level, cycle, level_at, acked_by, acked_at, closed_at = row
    return Incident(int(ident), str(policy), IncidentState(state), datetime.fromtimestamp(opened, UTC),
                    int(level), int(cycle), datetime.fromtimestamp(level_at, UTC), acked_by, _dt(acked_at),
                    _dt(closed_at))  # fmt: skip


def delivery_row(d: Delivery) -> tuple[Any, ...]:
    return (d.key, d.incident, d.kind.value, d.level, d.cycle, d.person, str(d.channel), d.state.value,
            d.attempts, d.detail, d.created_at.timestamp(), d.updated_at.timestamp())  # fmt: skip


def delivery_from_row(row: Sequence[Any]) -> Delivery:
    key, incident, kind, level, cycle, person, channel, state, attempts, detail, created, updated = row
    return Delivery(str(key), int(incident), DeliveryKind(kind), int(level), int(cycle), str(person),
                    str(channel), DeliveryState(state), int(attempts), str(detail),
                    datetime.fromtimestamp(created, UTC),
                    datetime.fromtimestamp(updated, UTC))  # fmt: skip


def event_json(event: AlarmEvent) -> str:
    """An incident's alarm as both backends keep it: the whole event, as JSON."""
    value = None if event.value is None or not math.isfinite(event.value) else event.value
    return json.dumps({
        "alarm": event.alarm, "tag": event.tag, "ts": event.ts.isoformat(), "action": event.action.value,
        "status": event.status.value, "active": event.active, "priority": int(event.priority),
        "value": value, "limit": event.limit, "message_fr": event.message_fr,
        "message_en": event.message_en, "user": event.user, "comment": event.comment,
    })  # fmt: skip


def event_from_json(alarm: str, text: str) -> AlarmEvent:
    """Read an incident's alarm back. Files written before the whole event was kept hold only its
    tag, priority, messages, value and time (the raise): those are read as that raise."""
    record = json.loads(text)
    return AlarmEvent(
        alarm=str(record.get("alarm", alarm)), tag=str(record["tag"]),
        ts=datetime.fromisoformat(record["ts"]),
        action=AlarmAction(record.get("action", AlarmAction.RAISED)),
        status=AlarmStatus(record.get("status", AlarmStatus.UNACK.value)),
        active=bool(record.get("active", True)), priority=Priority(int(record["priority"])),
        value=record.get("value"), limit=record.get("limit"), message_fr=str(record.get("message_fr", "")),
        message_en=str(record.get("message_en", "")), user=str(record.get("user", "")),
        comment=str(record.get("comment", "")),
    )  # fmt: skip
