"""Every JSON shape the server speaks, both directions, once: the event stream, the REST API's
alarm and journal bodies, and the desktop client that reads them back.

A sample's quality and an alarm's priority are words on the wire ("good", "critical"); times are
UTC with a ``Z``; a missing or not-a-number value is ``null``. The REST schemas
(``core.api.schemas``) validate these same dictionaries.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from core.alarms.view import AlarmView
from core.model import AlarmAction, AlarmEvent, AlarmStatus, Priority, Quality, Sample, StationStatus
from core.site.oncall import Due, Duty, IncidentDuty, OnCallView, Sent, TeamDuty

Message = dict[str, Any]
_QUALITY = ("good", "uncertain", "bad")
_QUALITIES = {word: Quality(number) for number, word in enumerate(_QUALITY)}  # the same words back


# -- to the wire ---------------------------------------------------------------------------------------


def iso(ts: datetime) -> str:
    """UTC with a ``Z``, as the REST API writes times."""
    return ts.isoformat().replace("+00:00", "Z")


def sample_json(sample: Sample) -> Message:
    value = None if math.isnan(sample.value) else sample.value
    return {"tag": sample.tag, "ts": iso(sample.ts), "value": value,
            "quality": _QUALITY[int(sample.quality)]}  # fmt: skip


def station_json(status: StationStatus) -> Message:
    return {"station": status.station, "state": status.state.value, "ts": iso(status.ts),
            "detail": status.detail, "fault": status.fault, "clock_skew_s": status.clock_skew_s,
            "reason": status.reason}  # fmt: skip


def alarm_json(view: AlarmView) -> Message:
    def num(value: float | None) -> float | None:
        return None if value is None or math.isnan(value) else value

    def when(value: datetime | None) -> str | None:
        return None if value is None else iso(value)

    return {
        "id": view.id, "tag": view.tag, "station": view.station, "station_name": view.station_name,
        "kind": view.kind, "priority": view.priority.name.lower(), "status": view.status.value,
        "active": view.active, "value": num(view.value), "raised_value": num(view.raised_value),
        "limit": view.limit, "since": when(view.since), "acknowledged_by": view.acknowledged_by,
        "acknowledged_at": when(view.acknowledged_at), "shelved_by": view.shelved_by,
        "shelved_reason": view.shelved_reason, "shelved_until": when(view.shelved_until),
        "message_fr": view.message_fr, "message_en": view.message_en,
    }  # fmt: skip


def event_json(event: AlarmEvent) -> Message:
    return {"ts": iso(event.ts), "alarm": event.alarm, "tag": event.tag, "action": event.action,
            "status": event.status.value, "active": event.active, "priority": event.priority.name.lower(),
            "value": None if event.value is None or math.isnan(event.value) else event.value,
            "limit": event.limit,
            "user": event.user, "comment": event.comment, "message_fr": event.message_fr,
            "message_en": event.message_en}  # fmt: skip


# -- from the wire -------------------------------------------------------------------------------------


def instant(text: str) -> datetime:
    """A wire time (``…Z`` or an offset) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _when(text: str | None) -> datetime | None:
    return None if text is None else instant(text)


def view_from_json(body: dict[str, Any]) -> AlarmView:
    return AlarmView(
        id=body["id"], tag=body["tag"], station=body["station"], station_name=body["station_name"],
        kind=body["kind"], priority=Priority[body["priority"].upper()], status=AlarmStatus(body["status"]),
        active=body["active"], value=body["value"], raised_value=body["raised_value"], limit=body["limit"],
        since=_when(body["since"]), acknowledged_by=body["acknowledged_by"],
        acknowledged_at=_when(body["acknowledged_at"]), shelved_by=body["shelved_by"],
        shelved_reason=body["shelved_reason"], shelved_until=_when(body["shelved_until"]),
        message_fr=body["message_fr"], message_en=body["message_en"],
    )  # fmt: skip


def event_from_json(body: dict[str, Any]) -> AlarmEvent:
    return AlarmEvent(
        alarm=body["alarm"], tag=body["tag"], ts=instant(body["ts"]), action=AlarmAction(body["action"]),
        status=AlarmStatus(body["status"]), active=body["active"],
        priority=Priority[body["priority"].upper()], value=body.get("value"), limit=body.get("limit"),
        message_fr=body["message_fr"], message_en=body["message_en"], user=body["user"],
        comment=body["comment"],
    )  # fmt: skip


def sample_from_json(body: dict[str, Any]) -> Sample:
    value = body.get("value")
    return Sample(str(body["tag"]), instant(str(body["ts"])),
                  math.nan if value is None else float(value), _QUALITIES[str(body["quality"])])  # fmt: skip


def oncall_from_json(body: dict[str, Any]) -> OnCallView:
    """``/api/v1/oncall``'s answer (``core.api.schemas.OnCallOut``) back into the site's view."""

    def duty(d: dict[str, Any]) -> Duty:
        return Duty(d["person"], instant(d["start"]), instant(d["end"]), d.get("reason", ""))

    def sent(d: dict[str, Any]) -> Sent:
        return Sent(d["kind"], d["level"], d["person"], d["channel"], d["state"], d["attempts"],
                    d["detail"], instant(d["created_at"]), instant(d["updated_at"]))  # fmt: skip

    def incident(i: dict[str, Any]) -> IncidentDuty:
        due = i.get("due")
        return IncidentDuty(
            i["id"], i["policy"], i["state"], instant(i["opened_at"]), i["level"], i.get("acked_by"),
            _when(i.get("acked_at")), _when(i.get("closed_at")), tuple(i["alarms"]),
            tuple(i.get("messages_fr", ())), tuple(i.get("messages_en", ())),
            tuple(sent(d) for d in i["deliveries"]),
            Due(instant(due["at"]), due["level"], tuple(due.get("people", ()))) if due else None,
        )  # fmt: skip

    return OnCallView(
        body.get("configured", True),
        tuple(TeamDuty(t["id"], t["name"], duty(t["now"]), duty(t["next"])) for t in body.get("teams", ())),
        tuple(incident(i) for i in body.get("incidents", ())),
        {name: instant(until) for name, until in body.get("channels_down", {}).items()},
        body.get("paging", True),
    )
