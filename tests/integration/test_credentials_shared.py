"""Tokens, sessions and accounts shared by redundant servers through a real Cassandra, each
server's SQLite file a replica that answers while Cassandra is away."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.storage.cassandra_session import connect
from core.storage.credentials_shared import (
    CassandraCredentials,
    CredentialsUnreachable,
    SharedTokenStore,
    SharedUserStore,
)
from core.storage.tokens import TokenStore
from tests.integration.conftest import cassandra_settings

PASSWORD = "vanne-de-fond-50"


Pair = tuple[SharedTokenStore, SharedUserStore]


@pytest.fixture
def servers(tmp_path: Path, cassandra_node: Any) -> Iterator[tuple[Pair, Pair]]:
    """Two servers' credential stores on one keyspace (closed after: the driver's threads)."""
    settings = cassandra_settings(cassandra_node)
    pairs = []
    for name in ("a", "b"):
        remote = CassandraCredentials(lambda: connect(settings, None))
        path = tmp_path / name / "tokens.db"
        pairs.append((SharedTokenStore(path, remote), SharedUserStore(path, remote)))
    yield pairs[0], pairs[1]
    for tokens, users in pairs:
        tokens.close()
        users.close()


@pytest.mark.cassandra
def test_a_token_made_on_one_server_works_on_the_other_until_revoked_there(
    servers: tuple[Pair, Pair],
) -> None:
    (tokens_a, _), (tokens_b, _) = servers
    secret = tokens_a.create("sonde", ["ingest"])
    token = tokens_b.verify(secret)
    assert token is not None and token.name == "sonde" and token.allows("ingest")
    with pytest.raises(ValueError, match="exists already"):
        tokens_b.create("sonde", ["read"])  # names are the site's
    assert [t.name for t in tokens_b.list()] == ["sonde"]
    tokens_a.generation()  # starts watching the site's version
    deadline = time.monotonic() + 30
    while not tokens_a._version:  # the first reading, made after the token was created
        assert time.monotonic() < deadline
        time.sleep(0.05)
    before = tokens_a.generation()
    assert tokens_b.revoke("sonde")
    deadline = time.monotonic() + 30  # A's cache of verified tokens is emptied when this moves
    while tokens_a.generation() == before:
        assert time.monotonic() < deadline, "A never saw the revocation's version"
        time.sleep(0.05)
    assert tokens_a.verify(secret) is None  # Cassandra says so, and A's replica forgets it
    assert TokenStore(tokens_a.path).verify(secret) is None


@pytest.mark.cassandra
def test_a_session_and_an_account_are_the_sites(servers: tuple[Pair, Pair]) -> None:
    (tokens_a, users_a), (tokens_b, users_b) = servers
    users_a.add("marie", "operator", PASSWORD)
    assert users_b.verify("marie", PASSWORD) is not None
    assert users_b.verify("marie", "wrong password!") is None
    secret, _ = tokens_a.open_session("marie", "operator", timedelta(hours=12))
    session = tokens_b.verify(secret)
    assert session is not None and session.user == "marie" and session.allows("operate")
    users_b.set_role("marie", "viewer")
    assert users_a.get("marie").role == "viewer"  # type: ignore[union-attr]
    users_b.set_disabled("marie", True)
    tokens_b.close_sessions_of("marie")
    assert users_a.verify("marie", PASSWORD) is None
    assert tokens_a.verify(secret) is None


@pytest.mark.cassandra
def test_while_cassandra_is_away_the_replica_answers_and_changes_are_refused(
    servers: tuple[Pair, Pair],
) -> None:
    (tokens_a, users_a), _ = servers
    secret = tokens_a.create("sonde", ["ingest"])
    users_a.add("marie", "operator", PASSWORD)
    assert tokens_a.verify(secret) is not None and users_a.verify("marie", PASSWORD) is not None

    def unreachable() -> tuple[Any, Any]:
        raise OSError("connection refused")

    path = tokens_a.path
    away = CassandraCredentials(unreachable)
    tokens, users = SharedTokenStore(path, away), SharedUserStore(path, away)
    assert tokens.verify(secret) is not None  # the probe keeps posting
    assert users.verify("marie", PASSWORD) is not None  # the operator keeps signing in
    later, _ = tokens.open_session("marie", "operator", timedelta(hours=1))
    assert tokens.verify(later) is not None  # on this server only
    with pytest.raises(CredentialsUnreachable, match="Cassandra"):
        tokens.create("autre", ["read"])
    with pytest.raises(CredentialsUnreachable, match="Cassandra"):
        users.add("paul", "viewer", PASSWORD)
    assert [t.name for t in TokenStore(path).list()] == ["sonde"]  # nothing half-made
