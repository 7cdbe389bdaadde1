"""The ISA-18.2 state machine, checked cell by cell against the state diagram.

Rows are alarm states (status and whether the process condition holds), columns are events;
each cell is the expected next state and the actions, written from the diagram, not from the
code. ``-`` means "nothing happens", ``!`` means "rejected, nothing changes"; ``=`` (latching
rows) means "as for the same alarm without latching".
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.alarms.states import AlarmState, Event, transition
from core.model import AlarmAction
from core.model import AlarmStatus as S

STATES = {
    "N": AlarmState(S.NORMAL, False),
    "U": AlarmState(S.UNACK, True),
    "A": AlarmState(S.ACKED, True),
    "R": AlarmState(S.RTN_UNACK, False),
    "S+": AlarmState(S.SHELVED, True),
    "S-": AlarmState(S.SHELVED, False),
    "D+": AlarmState(S.SUPPRESSED, True),
    "D-": AlarmState(S.SUPPRESSED, False),
    "O+": AlarmState(S.OUT_OF_SERVICE, True),
    "O-": AlarmState(S.OUT_OF_SERVICE, False),
    # latching alarms
    "LN": AlarmState(S.NORMAL, False, latching=True),
    "LU": AlarmState(S.UNACK, True, latching=True),
    "LA": AlarmState(S.ACKED, True, latching=True),
    "LA-": AlarmState(S.ACKED, False, latching=True),
    "LR": AlarmState(S.RTN_UNACK, False, latching=True),
    "LS-": AlarmState(S.SHELVED, False, latching=True),
    "LS+": AlarmState(S.SHELVED, True, latching=True),
    "LD-": AlarmState(S.SUPPRESSED, False, latching=True),
    "LO-": AlarmState(S.OUT_OF_SERVICE, False, latching=True),
}

EVENTS = [Event.ACTIVATE, Event.CLEAR, Event.ACK, Event.RESET, Event.SHELVE, Event.UNSHELVE,
          Event.SUPPRESS, Event.UNSUPPRESS, Event.REMOVE, Event.RESTORE]  # fmt: skip

# state : ACTIVATE       CLEAR           ACK          RESET       SHELVE        UNSHELVE               SUPPRESS          UNSUPPRESS                REMOVE        RESTORE
TABLE = """
N   | U raised       | -               | !            | !           | S- shelved    | !                      | D- suppressed     | !                         | O- removed    | !
U   | -              | R returned      | A acknowledged | !         | S+ shelved    | !                      | D+ suppressed     | !                         | O+ removed    | !
A   | -              | N returned      | !            | !           | S+ shelved    | !                      | D+ suppressed     | !                         | O+ removed    | !
R   | U raised       | -               | N acknowledged | !         | S- shelved    | !                      | D- suppressed     | !                         | O- removed    | !
S+  | -              | S- condition    | !            | !           | S+ shelved    | U unshelved,raised     | D+ suppressed     | !                         | O+ removed    | !
S-  | S+ condition   | -               | !            | !           | S- shelved    | N unshelved            | D- suppressed     | !                         | O- removed    | !
D+  | -              | D- condition    | !            | !           | !             | !                      | !                 | U unsuppressed,raised     | O+ removed    | !
D-  | D+ condition   | -               | !            | !           | !             | !                      | !                 | N unsuppressed            | O- removed    | !
O+  | -              | O- condition    | !            | !           | !             | !                      | !                 | !                         | !             | U restored,raised
O-  | O+ condition   | -               | !            | !           | !             | !                      | !                 | !                         | !             | N restored
LN  | LU raised      | =               | =            | =           | LS- shelved   | =                      | LD- suppressed    | =                         | LO- removed   | =
LU  | =              | LR returned     | LA acknowledged | =        | LS+ shelved   | =                      | =                 | =                         | =             | =
LA  | =              | LA- returned    | =            | =           | =             | =                      | =                 | =                         | =             | =
LA- | LU raised      | -               | !            | LN reset    | LS- shelved   | !                      | LD- suppressed    | !                         | LO- removed   | !
LR  | LU raised      | =               | LA- acknowledged | !       | LS- shelved   | =                      | LD- suppressed    | =                         | LO- removed   | =
LS- | LS+ condition  | =               | =            | =           | =             | LN unshelved           | LD- suppressed    | =                         | LO- removed   | =
LS+ | =              | LS- condition   | =            | =           | =             | LU unshelved,raised    | =                 | =                         | =             | =
LD- | =              | =               | =            | =           | =             | =                      | =                 | LN unsuppressed           | =             | =
LO- | =              | =               | =            | =           | =             | =                      | =                 | =                         | =             | LN restored
"""


def cases() -> list[tuple[str, Event, str]]:
    rows = []
    for line in TABLE.strip().splitlines():
        name, *cells = (cell.strip() for cell in line.split("|"))
        assert len(cells) == len(EVENTS), name
        rows += [(name, event, cell) for event, cell in zip(EVENTS, cells, strict=True)]
    return rows


def test_the_table_covers_every_state_and_event() -> None:
    covered = {(name, event) for name, event, _ in cases()}
    assert covered == {(name, event) for name in STATES for event in EVENTS}


@pytest.mark.parametrize(("name", "event", "cell"), cases(), ids=lambda v: getattr(v, "value", v))
def test_transition(name: str, event: Event, cell: str) -> None:
    state = STATES[name]
    new_state, actions = transition(state, event)
    if cell == "=":  # latching changes nothing here: same as the non-latching alarm
        plain_state, plain_actions = transition(STATES[name[1:]], event)
        assert (new_state, actions) == (replace(plain_state, latching=True), plain_actions)
    elif cell == "-":
        assert (new_state, actions) == (state, [])
    elif cell == "!":
        assert (new_state, actions) == (state, [AlarmAction.REJECTED])
    else:
        target, words = cell.split()
        assert new_state == STATES[target]
        assert [a.value for a in actions] == words.split(",")
