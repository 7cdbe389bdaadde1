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


class Action(enum.Enum):
    """What the engine must make known; the value is the journal's word for it."""

    RAISED = "raised"
    RETURNED = "returned"
    ACKNOWLEDGED = "acknowledged"
    RESET = "reset"
    SHELVED = "shelved"
    UNSHELVED = "unshelved"
    SUPPRESSED = "suppressed"
    UNSUPPRESSED = "unsuppressed"
    REMOVED = "removed"
    RESTORED = "restored"
    CONDITION = "condition"  # the condition changed while the alarm was not annunciated
    REJECTED = "rejected"  # the event makes no sense in this state: nothing changed


@dataclass(frozen=True, slots=True)
class AlarmState:
    status: S = S.NORMAL
    active: bool = False
    latching: bool = False


_ANNUNCIATED = (S.UNACK, S.ACKED, S.RTN_UNACK)
_HIDDEN = (S.SHELVED, S.SUPPRESSED, S.OUT_OF_SERVICE)


def _back(state: AlarmState, action: Action) -> tuple[AlarmState, list[Action]]:
    """Leaving shelving, suppression or out-of-service: re-annunciate if the condition holds."""
    if state.active:
        return replace(state, status=S.UNACK), [action, Action.RAISED]
    return replace(state, status=S.NORMAL), [action]


def transition(state: AlarmState, event: Event) -> tuple[AlarmState, list[Action]]:
    """The next state and the actions to carry out; an invalid event yields ``REJECTED``."""
    status, active = state.status, state.active
    same: tuple[AlarmState, list[Action]] = (state, [])
    rejected: tuple[AlarmState, list[Action]] = (state, [Action.REJECTED])

    if event is Event.ACTIVATE:
        if active:
            return same
        if status in _HIDDEN:
            return replace(state, active=True), [Action.CONDITION]
        return replace(state, status=S.UNACK, active=True), [Action.RAISED]
    if event is Event.CLEAR:
        if not active:
            return same
        if status in _HIDDEN:
            return replace(state, active=False), [Action.CONDITION]
        if status is S.UNACK:
            return replace(state, status=S.RTN_UNACK, active=False), [Action.RETURNED]
        if status is S.ACKED:
            next_status = S.ACKED if state.latching else S.NORMAL
            return replace(state, status=next_status, active=False), [Action.RETURNED]
        return same
    if event is Event.ACK:
        if status is S.UNACK:
            return replace(state, status=S.ACKED), [Action.ACKNOWLEDGED]
        if status is S.RTN_UNACK:
            next_status = S.ACKED if state.latching else S.NORMAL
            return replace(state, status=next_status), [Action.ACKNOWLEDGED]
        return rejected
    if event is Event.RESET:
        if status is S.ACKED and state.latching and not active:
            return replace(state, status=S.NORMAL), [Action.RESET]
        return rejected
    if event is Event.SHELVE:
        if status in (S.SUPPRESSED, S.OUT_OF_SERVICE):
            return rejected
        return replace(state, status=S.SHELVED), [Action.SHELVED]
    if event is Event.UNSHELVE:
        return _back(state, Action.UNSHELVED) if status is S.SHELVED else rejected
    if event is Event.SUPPRESS:
        if status in (S.SUPPRESSED, S.OUT_OF_SERVICE):
            return rejected
        return replace(state, status=S.SUPPRESSED), [Action.SUPPRESSED]
    if event is Event.UNSUPPRESS:
        return _back(state, Action.UNSUPPRESSED) if status is S.SUPPRESSED else rejected
    if event is Event.REMOVE:
        if status is S.OUT_OF_SERVICE:
            return rejected
        return replace(state, status=S.OUT_OF_SERVICE), [Action.REMOVED]
    if event is Event.RESTORE:
        return _back(state, Action.RESTORED) if status is S.OUT_OF_SERVICE else rejected
    raise ValueError(f"unknown event {event!r}")  # pragma: no cover - Event is closed
