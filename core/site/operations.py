"""The one surface through which every face acts on alarms: who may do what, and the audit.

The desktop, the REST API and the phone (SMS reply, key press) all call these commands with an
:class:`Actor` (who, with which role, from where) instead of reaching into the engine; a
command is a value of ``core.site.commands``, which ``carry`` takes and the relay hands on. Each
command checks the role, carries out the change through the engine (which journals the alarm
transition), records the command in the audit trail, allowed or not, and answers with the
alarm's new :class:`~core.alarms.view.AlarmView`. Modes are kept in the audit store, so a mode
entered before a restart is still in force after it and leaving it unsuppresses its alarms.

Roles (each includes the ones before it):
- viewer: watches;
- operator: acknowledges, shelves, unshelves, resets a latched alarm;
- engineer: also enters and leaves modes, removes alarms from service and returns them;
- admin: also manages users and tokens.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, overload

from core import words
from core.alarms.engine import AlarmEngine
from core.alarms.view import AlarmView
from core.site.commands import (
    Acknowledge,
    AlarmCommand,
    OperatorCommand,
    RemoveFromService,
    Reset,
    ReturnToService,
    SetMode,
    Shelve,
    Unshelve,
    from_wire,
    on_alarm,
    to_wire,
)
from core.storage.audit import ActiveMode, AuditEntry, AuditStore

_LOGGER = logging.getLogger(__name__)

Change = Callable[[str, str, str], bool]  # an engine command: (alarm id, who, why) -> done


class Role(enum.IntEnum):
    VIEWER = 1
    OPERATOR = 2
    ENGINEER = 3
    ADMIN = 4

    @property
    def word(self) -> str:
        return self.name.lower()


class Command(enum.Enum):
    ACKNOWLEDGE = "acknowledge"
    SHELVE = "shelve"
    UNSHELVE = "unshelve"
    RESET = "reset"
    ENTER_MODE = "enter_mode"
    LEAVE_MODE = "leave_mode"
    REMOVE_FROM_SERVICE = "remove_from_service"
    RETURN_TO_SERVICE = "return_to_service"
    SAVE_DASHBOARDS = "save_dashboards"


NEEDED: dict[Command, Role] = {
    Command.ACKNOWLEDGE: Role.OPERATOR,
    Command.SHELVE: Role.OPERATOR,
    Command.UNSHELVE: Role.OPERATOR,
    Command.RESET: Role.OPERATOR,
    Command.ENTER_MODE: Role.ENGINEER,
    Command.LEAVE_MODE: Role.ENGINEER,
    Command.REMOVE_FROM_SERVICE: Role.ENGINEER,
    Command.RETURN_TO_SERVICE: Role.ENGINEER,
    Command.SAVE_DASHBOARDS: Role.ENGINEER,
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: an authenticated name, its role, and where the command came from."""

    name: str
    role: Role
    origin: str  # "desktop", "api token ops", "sms +33…", "cli"…

    def may(self, command: Command) -> bool:
        return self.role >= NEEDED[command]


class OperationError(Exception):
    """Base of the refusals below: why, in the operator's language (``text``), from the
    catalogue's ``operation`` section; ``str()`` is the English, for logs.

    ``heard(text)`` holds a refusal already said by a server, in the language the client asked
    for (its ``Accept-Language``)."""

    def __init__(self, key: str, **fields: Any) -> None:
        super().__init__(key)
        self.key, self.fields = key, fields

    @classmethod
    def heard(cls, text: str) -> OperationError:
        return cls("", text=text)

    def text(self, language: str) -> str:
        if not self.key:
            return str(self.fields["text"])
        said = {name: value(language) if callable(value) else value for name, value in self.fields.items()}
        return words.say(f"operation.{self.key}", language, **said)

    def __str__(self) -> str:
        return self.text("en")


def _word(key: str) -> Callable[[str], str]:
    """A catalogue word in the language the refusal is finally said in."""
    return lambda language: words.say(key, language)


class Forbidden(OperationError):
    """The actor's role does not allow the command (HTTP 403)."""


class NotNow(OperationError):
    """The alarm's state does not allow the command (HTTP 409)."""


class Invalid(OperationError):
    """The command's arguments are not acceptable: no reason, a shelving too long (HTTP 422)."""


class UnknownAlarm(OperationError, KeyError):
    """No such alarm (HTTP 404)."""

    def __str__(self) -> str:
        return str(self.args[0])


class Operations:
    """Operator commands on one site's alarm engine. Call from the event loop."""

    def __init__(self, engine: AlarmEngine, audit: AuditStore) -> None:
        self.engine = engine
        self.audit = audit
        # the modes in force, read here (the store's writes are queued off the loop: reading it
        # back at once could still see the mode just left)
        self._modes: dict[tuple[str, str | None], ActiveMode] = {}
        # redundant servers: each command carried out here is published for the others
        # (core.storage.commands_shared), and theirs are applied here by apply_relayed
        self.relay: Callable[[dict[str, Any]], None] | None = None
        self._relaying = False

    def start(self) -> None:
        """Put back the modes in force before a restart (after the engine restored its alarms)."""
        for mode in self.audit.modes():
            self._modes[(mode.mode, mode.station)] = mode
            self.engine.restore_mode(mode.mode, mode.station)

    # -- alarms ---------------------------------------------------------------------------

    def acknowledge(self, actor: Actor, alarm_id: str, comment: str = "") -> AlarmView:
        return self._carry(actor, Command.ACKNOWLEDGE, alarm_id, comment, self.engine.acknowledge)

    @overload
    def carry(self, actor: Actor, command: AlarmCommand) -> AlarmView: ...
    @overload
    def carry(self, actor: Actor, command: SetMode) -> list[AlarmView]: ...

    def carry(self, actor: Actor, command: OperatorCommand) -> AlarmView | list[AlarmView]:
        """Carry out ``command`` for ``actor`` (checked, audited, relayed): what every face calls;
        an alarm's command answers with its view, a mode with the alarms it changed."""
        match command:
            case Acknowledge(alarm, comment):
                return self.acknowledge(actor, alarm, comment)
            case Shelve(alarm, reason, duration):
                return self.shelve(actor, alarm, reason, duration)
            case Unshelve(alarm, comment):
                return self.unshelve(actor, alarm, comment)
            case Reset(alarm, comment):
                return self.reset(actor, alarm, comment)
            case RemoveFromService(alarm, reason):
                return self.remove_from_service(actor, alarm, reason)
            case ReturnToService(alarm, reason):
                return self.return_to_service(actor, alarm, reason)
            case SetMode(mode, station, on, reason):
                return self.set_mode(actor, mode, station, on, reason)
        raise TypeError(f"unknown command {command!r}")  # a programming error, not a refusal

    def apply_relayed(self, record: dict[str, Any], at: datetime, server: str) -> None:
        """Carry out a command another server of the site carried out at ``at``; one that no
        longer applies here (already done, a shelve already over) is skipped."""
        actor = Actor(record["user"], Role[record["role"]], f"{record['origin']} (via {server})")
        try:
            command = from_wire(record)
        except (KeyError, ValueError) as err:
            _LOGGER.warning("a relayed command from %s cannot be read (%s): skipped", server, err)
            return
        if isinstance(command, Shelve):  # what is left of it
            left = command.duration - (self.engine.clock.now() - at)
            if left <= timedelta(0):
                return
            command = Shelve(command.alarm, command.reason, left)
        self._relaying = True
        try:
            self.carry(actor, command)
        except OperationError:
            pass  # this engine is there already, or the alarm moved on
        finally:
            self._relaying = False

    def _publish(self, actor: Actor, command: OperatorCommand) -> None:
        if self.relay is not None and not self._relaying:
            self.relay(to_wire(command, actor.name, actor.role.name, actor.origin))

    def shelve(self, actor: Actor, alarm_id: str, reason: str, duration: timedelta) -> AlarmView:
        detail = f"{reason} ({duration.total_seconds() / 60:.0f} min)"
        self._check(actor, Command.SHELVE, alarm_id, detail)
        try:
            ok = self.engine.shelve(alarm_id, actor.name, reason, duration)
        except ValueError as err:
            self._audit(actor, Command.SHELVE, alarm_id, detail, f"refused: {err}")
            limit = words.span(self.engine.config.alarm_settings.max_shelve_h * 3600)
            raise (Invalid("needs_reason", command=_word("command.shelve")) if not reason.strip()
                   else Invalid("shelve_length", limit=limit)) from None  # fmt: skip
        view = self._done(actor, Command.SHELVE, alarm_id, detail, ok)
        self._publish(actor, Shelve(alarm_id, reason, duration))
        return view

    def unshelve(self, actor: Actor, alarm_id: str, comment: str = "") -> AlarmView:
        return self._carry(actor, Command.UNSHELVE, alarm_id, comment, self.engine.unshelve)

    def reset(self, actor: Actor, alarm_id: str, comment: str = "") -> AlarmView:
        return self._carry(actor, Command.RESET, alarm_id, comment, self.engine.reset)

    def remove_from_service(self, actor: Actor, alarm_id: str, reason: str) -> AlarmView:
        self._check(actor, Command.REMOVE_FROM_SERVICE, alarm_id, reason)
        self._reason(actor, Command.REMOVE_FROM_SERVICE, alarm_id, reason)
        view = self._done(actor, Command.REMOVE_FROM_SERVICE, alarm_id, reason,
                          self.engine.remove_from_service(alarm_id, actor.name, reason))  # fmt: skip
        self._publish(actor, RemoveFromService(alarm_id, reason))
        return view

    def return_to_service(self, actor: Actor, alarm_id: str, reason: str = "") -> AlarmView:
        return self._carry(actor, Command.RETURN_TO_SERVICE, alarm_id, reason, self.engine.return_to_service)

    # -- modes ----------------------------------------------------------------------------

    def modes(self) -> list[ActiveMode]:
        return sorted(self._modes.values(), key=lambda m: m.since)

    def set_mode(
        self, actor: Actor, mode: str, station: str | None, on: bool, reason: str
    ) -> list[AlarmView]:
        """Enter (``on``) or leave a mode of one station or of the whole site (``station`` None).

        Returns the alarms it suppressed or unsuppressed.
        """
        command = Command.ENTER_MODE if on else Command.LEAVE_MODE
        target = f"{mode}@{station or 'site'}"
        if not actor.may(command):
            self._forbid(actor, command, target, reason)
        known = sorted({m for rule in self.engine.config.alarms for m in rule.suppressed_in})
        if mode not in known:
            self._audit(actor, command, target, reason, "refused: unknown mode")
            raise Invalid("unknown_mode", mode=mode, modes=", ".join(known) or "—")
        if station is not None and station not in {s.id for s in self.engine.config.stations}:
            self._audit(actor, command, target, reason, "refused: unknown station")
            raise UnknownAlarm("unknown_station", station=station)
        self._reason(actor, command, target, reason)
        changed = self.engine.set_mode(mode, station, on, actor.name, reason)
        active = ActiveMode(mode, station, self.engine.clock.now(), actor.name, reason) if on else None
        if active is None:
            self._modes.pop((mode, station), None)
        else:
            self._modes[(mode, station)] = active
        self.audit.set_mode(active, mode, station)
        self._audit(actor, command, target, reason, f"done: {len(changed)} alarm(s)")
        self._publish(actor, SetMode(mode, station, on, reason))
        return [self.engine.view(alarm_id) for alarm_id in changed]

    # -- dashboards -----------------------------------------------------------------------

    def save_dashboards(self, actor: Actor, target: str, save: Callable[[], object]) -> None:
        """Write edited dashboards (``save``) into ``target``: an engineer's change, audited;
        a refusal of the file (a located config error) is audited and raised as it is."""
        if not actor.may(Command.SAVE_DASHBOARDS):
            self._forbid(actor, Command.SAVE_DASHBOARDS, target, "")
        try:
            save()
        except Exception as err:
            self._audit(actor, Command.SAVE_DASHBOARDS, target, "", f"refused: {err}"[:500])
            raise
        self._audit(actor, Command.SAVE_DASHBOARDS, target, "", "done")

    # -- the checks and the trail ---------------------------------------------------------

    def _carry(
        self,
        actor: Actor,
        command: Command,
        alarm_id: str,
        text: str,
        change: Callable[[str, str, str], bool],
    ) -> AlarmView:
        """Check, carry out ``change(alarm_id, who, text)`` through the engine, audit, answer."""
        self._check(actor, command, alarm_id, text)
        view = self._done(actor, command, alarm_id, text, change(alarm_id, actor.name, text))
        self._publish(actor, on_alarm(command.value, alarm_id, text))
        return view

    def _check(self, actor: Actor, command: Command, alarm_id: str, detail: str) -> None:
        if not actor.may(command):
            self._forbid(actor, command, alarm_id, detail)
        if alarm_id not in self.engine.alarms:
            self._audit(actor, command, alarm_id, detail, "refused: unknown alarm")
            raise UnknownAlarm("unknown_alarm", alarm=alarm_id)

    def _forbid(self, actor: Actor, command: Command, target: str, detail: str) -> None:
        self._audit(actor, command, target, detail, "forbidden")
        raise Forbidden("forbidden", who=actor.name, role=_word(f"role.{actor.role.word}"),
                        command=_word(f"command.{command.value}"),
                        needed=_word(f"role.{NEEDED[command].word}"))  # fmt: skip

    def _reason(self, actor: Actor, command: Command, target: str, reason: str) -> None:
        if not reason.strip():
            self._audit(actor, command, target, reason, "refused: no reason")
            raise Invalid("needs_reason", command=_word(f"command.{command.value}"))

    def _done(self, actor: Actor, command: Command, alarm_id: str, detail: str, ok: bool) -> AlarmView:
        view = self.engine.view(alarm_id)
        if not ok:
            self._audit(actor, command, alarm_id, detail, f"refused: {view.status.value}")
            raise NotNow("not_now", command=_word(f"command.{command.value}"), alarm=alarm_id,
                         state=_word(f"state.{view.status.value}"))  # fmt: skip
        self._audit(actor, command, alarm_id, detail, "done")
        return view

    def _audit(self, actor: Actor, command: Command, target: str, detail: str, outcome: str) -> None:
        now, role = self.engine.clock.now(), actor.role.word
        entry = AuditEntry(now, actor.name, role, actor.origin, command.value, target, detail, outcome)
        self.audit.record(entry)
