"""A redundant server is named once: the audit's "(via …)" is the name /health and /metrics give."""

from __future__ import annotations

from pathlib import Path

from core.config.schema import Storage
from core.storage.select import build_command_relay, build_lease


def test_the_lease_and_the_command_relay_name_this_server_the_same(tmp_path: Path) -> None:
    storage = Storage(backend="cassandra")
    lease, relay = build_lease(storage), build_command_relay(storage, tmp_path)
    assert lease is not None and relay is not None
    assert lease.owner == relay.origin  # relayed commands are audited "(via <origin>)"
