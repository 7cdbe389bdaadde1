"""The ISA-18.2 alarm state machine as a pure function: ``transition(state, event)``.

No clock, no I/O: the engine feeds events (process condition changes after delays, operator
actions, expiries) and carries out the returned actions (publish, journal, annunciate).

The state keeps the process condition (``active``) apart from the alarm status, so an alarm
shelved, suppressed or out of service still knows whether its condition holds, and is
annunciated again on return if it does. Precedence: out of service > suppressed > shelved.
A latching alarm stays acknowledged after its condition clears until an operator resets it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from core.model import AlarmAction
from core.model import AlarmStatus as S


class Event(enum.Enum):
    ACTIVATE = "activate"  # the condition became true (after its on-delay)
    CLEAR = "clear"  # the condition became false (after its off-delay)
    ACK = "ack"
    RESET = "reset"  # releases an acknowledged, cleared, latched alarm
    SHELVE = "shelve"
    UNSHELVE = "unshelve"  # by an operator or at the end of the shelving time
    SUPPRESS = "suppress"  # suppressed by design (maintenance, declared flood mode…)
    UNSUPPRESS = "unsuppress"
    REMOVE = "remove"  # out of service
    RESTORE = "restore"  # back in service


@dataclass(frozen=True, slots=True)
class AlarmState:
    status: S = S.NORMAL
    active: bool = False
    latching: bool = False


_ANNUNCIATED = (S.UNACK, S.ACKED, S.RTN_UNACK)
_HIDDEN = (S.SHELVED, S.SUPPRESSED, S.OUT_OF_SERVICE)


def _back(state: AlarmState, action: AlarmAction) -> tuple[AlarmState, list[AlarmAction]]:
    """Leaving shelving, suppression or out-of-service: re-annunciate if the condition holds."""
    if state.active:
        return replace(state, status=S.UNACK), [action, AlarmAction.RAISED]
    return replace(state, status=S.NORMAL), [action]


def transition(state: AlarmState, event: Event) -> tuple[AlarmState, list[AlarmAction]]:
    """The next state and the actions to carry out; an invalid event yields ``REJECTED``."""
    status, active = state.status, state.active
    same: tuple[AlarmState, list[AlarmAction]] = (state, [])
    rejected: tuple[AlarmState, list[AlarmAction]] = (state, [AlarmAction.REJECTED])

    if event is Event.ACTIVATE:
        if active:
            return same
        if status in _HIDDEN:
            return replace(state, active=True), [AlarmAction.CONDITION]
        return replace(state, status=S.UNACK, active=True), [AlarmAction.RAISED]
    if event is Event.CLEAR:
        if not active:
            return same
        if status in _HIDDEN:
            return replace(state, active=False), [AlarmAction.CONDITION]
        if status is S.UNACK:
            return replace(state, status=S.RTN_UNACK, active=False), [AlarmAction.RETURNED]
        if status is S.ACKED:
            next_status = S.ACKED if state.latching else S.NORMAL
            return replace(state, status=next_status, active=False), [AlarmAction.RETURNED]
        return same
    if event is Event.ACK:
        if status is S.UNACK:
            return replace(state, status=S.ACKED), [AlarmAction.ACKNOWLEDGED]
        if status is S.RTN_UNACK:
            next_status = S.ACKED if state.latching else S.NORMAL
            return replace(state, status=next_status), [AlarmAction.ACKNOWLEDGED]
        return rejected
    if event is Event.RESET:
        if status is S.ACKED and state.latching and not active:
            return replace(state, status=S.NORMAL), [AlarmAction.RESET]
        return rejected
    if event is Event.SHELVE:
        if status in (S.SUPPRESSED, S.OUT_OF_SERVICE):
            return rejected
        return replace(state, status=S.SHELVED), [AlarmAction.SHELVED]
    if event is Event.UNSHELVE:
        return _back(state, AlarmAction.UNSHELVED) if status is S.SHELVED else rejected
    if event is Event.SUPPRESS:
        if status in (S.SUPPRESSED, S.OUT_OF_SERVICE):
            return rejected
        return replace(state, status=S.SUPPRESSED), [AlarmAction.SUPPRESSED]
    if event is Event.UNSUPPRESS:
        return _back(state, AlarmAction.UNSUPPRESSED) if status is S.SUPPRESSED else rejected
    if event is Event.REMOVE:
        if status is S.OUT_OF_SERVICE:
            return rejected
        return replace(state, status=S.OUT_OF_SERVICE), [AlarmAction.REMOVED]
    if event is Event.RESTORE:
        return _back(state, AlarmAction.RESTORED) if status is S.OUT_OF_SERVICE else rejected
    raise ValueError(f"unknown event {event!r}")  # pragma: no cover - Event is closed
