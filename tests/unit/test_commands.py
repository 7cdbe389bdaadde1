"""Operator commands travel as values: unchanged from a face to the site's other servers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.site.commands import (
    Acknowledge,
    RemoveFromService,
    Reset,
    ReturnToService,
    SetMode,
    Shelve,
    Unshelve,
    from_wire,
    to_wire,
    word,
)

EVERY = [
    Acknowledge("level:lauragais.level:HH", "vanne de fond ouverte"),
    Shelve("door:lauragais.door", "travaux", timedelta(hours=2)),
    Unshelve("door:lauragais.door"),
    Reset("gate:lauragais.gate", "réarmé"),
    RemoveFromService("rain:pluvio.rain", "capteur déposé"),
    ReturnToService("rain:pluvio.rain", "capteur reposé"),
    SetMode("maintenance", "lauragais", True, "vidange"),
    SetMode("maintenance", None, False, "fin"),
]


@pytest.mark.parametrize("command", EVERY, ids=lambda c: f"{type(c).__name__}")
def test_each_command_reads_back_as_it_was_sent(command: object) -> None:
    record = to_wire(command, "Marie Dupont", "OPERATOR", "desktop")  # type: ignore[arg-type]
    assert record["command"] == word(command)  # type: ignore[arg-type]
    assert (record["user"], record["role"], record["origin"]) == ("Marie Dupont", "OPERATOR", "desktop")
    assert from_wire(record) == command


def test_an_entry_written_before_the_commands_were_values_reads_the_same() -> None:
    """ops_log rows in Cassandra outlive an upgrade: their form is the wire form."""
    old = {"command": "shelve", "user": "Marie", "role": "OPERATOR", "origin": "api token ops",
           "alarm": "door:lauragais.door", "text": "travaux", "duration_s": 3600.0}  # fmt: skip
    assert from_wire(old) == Shelve("door:lauragais.door", "travaux", timedelta(hours=1))
    mode = {"command": "enter_mode", "user": "Léo", "role": "ENGINEER", "origin": "desktop",
            "mode": "maintenance", "station": None, "text": "vidange"}  # fmt: skip
    assert from_wire(mode) == SetMode("maintenance", None, True, "vidange")
    with pytest.raises(ValueError, match="unknown operator command 'launch'"):
        from_wire({"command": "launch", "user": "x", "role": "ADMIN", "origin": "?"})
