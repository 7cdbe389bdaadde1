"""The site's tokens, sessions and accounts shared by redundant servers through Cassandra.

With several servers, a desktop that follows the leader from one server to another must keep
its session, a revoked token must stop working on every server, and an account added on one
must sign in on all. Cassandra is the authority (tables ``cred_*``); each server keeps its
SQLite store (``tokens.db``) as a replica of what it has seen, and answers from it only while
Cassandra cannot be reached, so that IoT probes and signed-in operators keep working through
an outage with what was valid when it began. A change bumps ``cred_version``; every server
reads it at most once a second, and empties its cache of verified tokens when it moves: a
revocation on one server reaches the others within a second or two.

Writes that define credentials (a token, an account, a password, a role) need Cassandra: they
are refused with the reason when it is away, rather than diverge. A sign-in during an outage
opens a session on this server only (it is forwarded when Cassandra is back, at the next
sign-in, or not at all: it ends with its 12 hours).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core.model import from_us, to_us, utcnow
from core.storage.tokens import ROLE_SCOPES, Token, TokenStore, digest
from core.storage.users import User, UserError, UserStore

_LOGGER = logging.getLogger(__name__)
_VERSION_EVERY_S = 1.0
_RETRY_S = 5.0
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cred_tokens (digest text PRIMARY KEY, name text, scopes text, "
    "created bigint)",
    "CREATE TABLE IF NOT EXISTS cred_sessions (digest text PRIMARY KEY, user text, role text, "
    "created bigint, expires bigint)",
    "CREATE TABLE IF NOT EXISTS cred_users (name text PRIMARY KEY, role text, hash text, disabled boolean, "
    "created bigint, changed bigint)",
    "CREATE TABLE IF NOT EXISTS cred_version (name text PRIMARY KEY, changed timeuuid)",
)


class CredentialsUnreachable(UserError):
    """Cassandra could not be reached: the change was not made."""


class CassandraCredentials:
    """The ``cred_*`` tables (blocking calls; connected on first use, again after a failure)."""

    def __init__(self, connect: Callable[[], tuple[Any, Any]]) -> None:
        self._connect = connect
        self._cluster: Any = None
        self._session: Any = None
        self._lock = threading.Lock()
        self._down_until = 0.0  # after a failure, answer "unreachable" at once for a while
        self.closed = False

    def _db(self) -> Any:
        with self._lock:
            if self.closed:
                raise CredentialsUnreachable("the credentials store is closed")
            if self._session is None:
                try:
                    cluster, session = self._connect()
                    for statement in _SCHEMA:
                        session.execute(statement, timeout=30)
                except Exception as err:
                    raise CredentialsUnreachable(f"Cassandra cannot be reached: {err}") from err
                self._cluster, self._session = cluster, session
            return self._session

    def run(self, query: str, args: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of ``query``. After a failure, calls fail at once for ``_RETRY_S``: the API
        verifies tokens on its event loop, which must not wait on a Cassandra that is away."""
        if time.monotonic() < self._down_until:
            raise CredentialsUnreachable("Cassandra cannot be reached (retried in a few seconds)")
        try:
            return list(self._db().execute(query, args))
        except Exception as err:
            self._down_until = time.monotonic() + _RETRY_S
            if isinstance(err, CredentialsUnreachable):
                raise
            raise CredentialsUnreachable(f"Cassandra did not answer: {err or type(err).__name__}") from err

    def bump(self) -> None:
        self.run("INSERT INTO cred_version (name, changed) VALUES ('site', now())")

    def version(self) -> str:
        rows = self.run("SELECT changed FROM cred_version WHERE name = 'site'")
        return str(rows[0].changed) if rows else ""

    def close(self) -> None:
        """Before the process exits: the driver's threads would outlive its executor otherwise."""
        with self._lock:
            self.closed = True
            if self._cluster is not None:
                self._cluster.shutdown()
            self._cluster = self._session = None


class SharedTokenStore(TokenStore):
    """Tokens and sessions in Cassandra, with this server's SQLite file as their replica."""

    def __init__(self, path: str | Path, remote: CassandraCredentials) -> None:
        super().__init__(path)
        self.remote = remote
        self._version = ""
        self._watcher: threading.Thread | None = None

    def generation(self) -> int:
        """Changes when this file or the site's credentials change; the site's version is read
        once a second by a thread of its own, never by the caller (an event loop)."""
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch_version, name="credentials", daemon=True)
            self._watcher.start()
        return hash((super().generation(), self._version))

    def close(self) -> None:
        super().close()
        self.remote.close()

    def _watch_version(self) -> None:
        while not self.remote.closed:
            with contextlib.suppress(CredentialsUnreachable):  # keep the last: the replica answers
                self._version = self.remote.version()
            time.sleep(_VERSION_EVERY_S)

    def create(self, name: str, scopes: list[str]) -> str:
        if any(row.name == name for row in self.remote.run("SELECT name FROM cred_tokens")):
            raise ValueError(f"a token named {name!r} exists already; revoke it first")
        secret = super().create(name, scopes)
        token = super().verify(secret)
        assert token is not None
        try:
            row = (digest(secret), name, " ".join(sorted(token.scopes)), to_us(token.created))
            self.remote.run(
                "INSERT INTO cred_tokens (digest, name, scopes, created) VALUES (%s, %s, %s, %s)", row
            )
            self.remote.bump()
        except CredentialsUnreachable:
            super().revoke(name)
            raise
        return secret

    def verify(self, secret: str) -> Token | None:
        """Cassandra's answer (kept in the replica), or the replica's while Cassandra is away."""
        key = digest(secret)
        try:
            if secret.startswith("ecs_"):
                query = "SELECT user, role, created, expires FROM cred_sessions WHERE digest = %s"
                rows = self.remote.run(query, (key,))
                if rows and rows[0].expires >= to_us(utcnow()):
                    row = rows[0]
                    self.put_session_row(key, row.user, row.role, row.created, row.expires)
                    scopes = frozenset(ROLE_SCOPES.get(row.role, ()))
                    return Token(f"session {row.user}", scopes, from_us(row.created), user=row.user,
                                 expires=from_us(row.expires))  # fmt: skip
            else:
                rows = self.remote.run(
                    "SELECT name, scopes, created FROM cred_tokens WHERE digest = %s", (key,)
                )
                if rows:
                    row = rows[0]
                    self.put_token_row(row.name, key, row.scopes, row.created)
                    return Token(row.name, frozenset(row.scopes.split()), from_us(row.created))
        except CredentialsUnreachable:
            return super().verify(secret)
        self.forget(key)  # revoked, ended or expired on the site
        return None

    def open_session(self, user: str, role: str, lasts: timedelta) -> tuple[str, datetime]:
        secret, expires = super().open_session(user, role, lasts)
        now = utcnow()
        try:
            self.remote.run(
                "INSERT INTO cred_sessions (digest, user, role, created, expires) "
                "VALUES (%s, %s, %s, %s, %s) USING TTL %s",
                (digest(secret), user, role, to_us(now), to_us(expires), max(1, int(lasts.total_seconds()))),
            )
        except CredentialsUnreachable as err:
            _LOGGER.warning("session of %s opened on this server only: %s", user, err)
        return secret, expires

    def close_session(self, secret: str) -> None:
        super().close_session(secret)
        try:
            self.remote.run("DELETE FROM cred_sessions WHERE digest = %s", (digest(secret),))
            self.remote.bump()
        except CredentialsUnreachable as err:
            _LOGGER.warning("session ended on this server only: %s", err)

    def close_sessions_of(self, user: str) -> None:
        super().close_sessions_of(user)
        for row in self.remote.run("SELECT digest, user FROM cred_sessions"):
            if row.user == user:
                self.remote.run("DELETE FROM cred_sessions WHERE digest = %s", (row.digest,))
        self.remote.bump()

    def list(self) -> list[Token]:
        try:
            rows = self.remote.run("SELECT name, scopes, created FROM cred_tokens")
        except CredentialsUnreachable:
            return super().list()
        tokens = [Token(r.name, frozenset(r.scopes.split()), from_us(r.created)) for r in rows]
        return sorted(tokens, key=lambda token: token.name)

    def revoke(self, name: str) -> bool:
        found = [r.digest for r in self.remote.run("SELECT digest, name FROM cred_tokens") if r.name == name]
        for key in found:
            self.remote.run("DELETE FROM cred_tokens WHERE digest = %s", (key,))
        if found:
            self.remote.bump()
        return super().revoke(name) or bool(found)


class SharedUserStore(UserStore):
    """Operator accounts in Cassandra, with this server's SQLite file as their replica."""

    def __init__(self, path: Path, remote: CassandraCredentials) -> None:
        super().__init__(path)
        self.remote = remote

    def close(self) -> None:
        self.remote.close()

    def _remote_row(self, name: str) -> tuple[str, str, str, int, int, int] | None:
        rows = self.remote.run(
            "SELECT name, role, hash, disabled, created, changed FROM cred_users WHERE name = %s", (name,)
        )
        if not rows:
            return None
        r = rows[0]
        row = (r.name, r.role, r.hash, int(bool(r.disabled)), r.created, r.changed)
        self.put_row(row)
        return row

    def _put(self, row: tuple[str, str, str, int, int, int]) -> User:
        self.remote.run(
            "INSERT INTO cred_users (name, role, hash, disabled, created, changed) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (row[0], row[1], row[2], bool(row[3]), row[4], row[5]),
        )
        self.remote.bump()
        self.put_row(row)
        return _user(row)

    def add(self, name: str, role: str, password: str) -> User:
        self._check(name, role, password)
        if self._remote_row(name) is not None:
            raise UserError(f"a user named {name!r} exists already")
        now = to_us(utcnow())
        return self._put((name, role, self.hashed(password), 0, now, now))

    def _changed(self, name: str, **change: Any) -> User:
        row = self._remote_row(name)
        if row is None:
            raise UserError(f"no user named {name!r}")
        fields = dict(zip(("name", "role", "hash", "disabled", "created", "changed"), row, strict=True))
        fields.update(change, changed=to_us(utcnow()))
        return self._put(tuple(fields.values()))  # type: ignore[arg-type]

    def set_password(self, name: str, password: str) -> User:
        self._check(name, None, password)
        return self._changed(name, hash=self.hashed(password))

    def set_role(self, name: str, role: str) -> User:
        self._check(name, role, None)
        return self._changed(name, role=role)

    def set_disabled(self, name: str, disabled: bool) -> User:
        return self._changed(name, disabled=int(disabled))

    def get(self, name: str) -> User | None:
        try:
            row = self._remote_row(name)
        except CredentialsUnreachable:
            return super().get(name)
        return None if row is None else _user(row)

    def list(self) -> list[User]:
        try:
            rows = self.remote.run("SELECT name, role, hash, disabled, created, changed FROM cred_users")
        except CredentialsUnreachable:
            return super().list()
        users = [_user((r.name, r.role, r.hash, int(bool(r.disabled)), r.created, r.changed)) for r in rows]
        return sorted(users, key=lambda user: user.name)

    def verify(self, name: str, password: str) -> User | None:
        try:
            row = self._remote_row(name)
        except CredentialsUnreachable:
            row = self.row(name)  # the replica, while Cassandra is away
        if row is None or row[3]:
            self.spend(password)
            return None
        return _user(row) if self.matches(row[2], password) else None


def _user(row: tuple[str, str, str, int, int, int]) -> User:
    return User(row[0], row[1], bool(row[3]), from_us(row[4]), from_us(row[5]))
