"""Operator commands as values: a face builds one in a line, the operations surface carries it,
and the command relay hands it unchanged to the site's other servers.

The wire form (``to_wire``/``from_wire``) is what ``ops_log`` in Cassandra holds: the command's
word, who gave it (name, role, origin) and its fields; entries written before these classes
existed read back the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class Acknowledge:
    alarm: str
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Shelve:
    alarm: str
    reason: str
    duration: timedelta


@dataclass(frozen=True, slots=True)
class Unshelve:
    alarm: str
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Reset:
    alarm: str
    comment: str = ""


@dataclass(frozen=True, slots=True)
class RemoveFromService:
    alarm: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReturnToService:
    alarm: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetMode:
    """Enter (``on``) or leave a mode of one station, or of the whole site (``station`` None)."""

    mode: str
    station: str | None
    on: bool
    reason: str


AlarmCommand = Acknowledge | Shelve | Unshelve | Reset | RemoveFromService | ReturnToService
OperatorCommand = AlarmCommand | SetMode
_ON_ALARM: dict[str, Callable[[str, str], AlarmCommand]] = {
    "acknowledge": Acknowledge, "unshelve": Unshelve, "reset": Reset,
    "remove_from_service": RemoveFromService, "return_to_service": ReturnToService,
}  # fmt: skip
_WORDS: dict[object, str] = {kind: word for word, kind in _ON_ALARM.items()}


def on_alarm(kind: str, alarm: str, text: str) -> AlarmCommand:
    """The command of word ``kind`` (acknowledge, unshelve, …) on ``alarm``, with its text."""
    return _ON_ALARM[kind](alarm, text)


def word(command: OperatorCommand) -> str:
    """The command's word in the audit trail and on the wire."""
    if isinstance(command, SetMode):
        return "enter_mode" if command.on else "leave_mode"
    return "shelve" if isinstance(command, Shelve) else _WORDS[type(command)]


def to_wire(command: OperatorCommand, user: str, role: str, origin: str) -> dict[str, Any]:
    record: dict[str, Any] = {"command": word(command), "user": user, "role": role, "origin": origin}
    if isinstance(command, SetMode):
        record.update(mode=command.mode, station=command.station, text=command.reason)
    elif isinstance(command, Shelve):
        record.update(alarm=command.alarm, text=command.reason, duration_s=command.duration.total_seconds())
    else:
        record.update(alarm=command.alarm, text=text(command))
    return record


def text(command: OperatorCommand) -> str:
    """What the operator wrote with it: a comment, or the reason the command needs."""
    if isinstance(command, Acknowledge | Unshelve | Reset):
        return command.comment
    return command.reason


def from_wire(record: dict[str, Any]) -> OperatorCommand:
    """The command of an ``ops_log`` entry; ValueError for a word this version does not know."""
    kind, text = str(record["command"]), str(record.get("text", ""))
    if kind in ("enter_mode", "leave_mode"):
        return SetMode(str(record["mode"]), record.get("station"), kind == "enter_mode", text)
    if kind == "shelve":
        return Shelve(str(record["alarm"]), text, timedelta(seconds=float(record["duration_s"])))
    if kind in _ON_ALARM:
        return on_alarm(kind, str(record["alarm"]), text)
    raise ValueError(f"unknown operator command {kind!r}")
