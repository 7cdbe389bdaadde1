"""Operator accounts: a name, a role, a password hashed with Argon2id, in SQLite beside the tokens.

Argon2id is memory-hard, so a stolen file costs an attacker memory as well as time per guess;
the hash carries its own parameters and salt, and is upgraded at the next sign-in when the
parameters change. A disabled account keeps its name in the journal and the audit trail but
can no longer sign in. The only argon2 importer.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.model import from_us, to_us, utcnow
from core.storage.paths import private_file

ROLES = ("viewer", "operator", "engineer", "admin")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()  # Argon2id, the library's RFC 9106 low-memory profile


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    disabled: bool
    created: datetime
    changed: datetime


class UserError(ValueError):
    """A refused account change; the message says why."""


class UserStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL,"
                " hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,"
                " changed INTEGER NOT NULL)"
            )

    def close(self) -> None:
        """Nothing held between calls (each opens and closes its connection)."""

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(private_file(self.path), timeout=30)

    @staticmethod
    def _check(name: str, role: str | None, password: str | None) -> None:
        if not name.strip() or len(name) > 100:
            raise UserError("a user name has 1 to 100 characters")
        if role is not None and role not in ROLES:
            raise UserError(f"the role is one of {', '.join(ROLES)}")
        if password is not None and len(password) < MIN_PASSWORD:
            raise UserError(f"a password has at least {MIN_PASSWORD} characters")

    def add(self, name: str, role: str, password: str) -> User:
        self._check(name, role, password)
        now = to_us(utcnow())
        try:
            with closing(self._connect()) as db, db:
                db.execute(
                    "INSERT INTO users (name, role, hash, disabled, created, changed)"
                    " VALUES (?, ?, ?, 0, ?, ?)",
                    (name, role, _HASHER.hash(password), now, now),
                )
        except sqlite3.IntegrityError:
            raise UserError(f"a user named {name!r} exists already") from None
        return self.get(name)  # type: ignore[return-value]

    def get(self, name: str) -> User | None:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT name, role, disabled, created, changed FROM users WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else User(row[0], row[1], bool(row[2]), from_us(row[3]), from_us(row[4]))

    def list(self) -> list[User]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT name, role, disabled, created, changed FROM users ORDER BY name"
            ).fetchall()
        return [User(r[0], r[1], bool(r[2]), from_us(r[3]), from_us(r[4])) for r in rows]

    def _update(self, name: str, sql: str, *values: object) -> User:
        with closing(self._connect()) as db, db:
            done = db.execute(sql, (*values, to_us(utcnow()), name)).rowcount
        if not done:
            raise UserError(f"no user named {name!r}")
        return self.get(name)  # type: ignore[return-value]

    def set_password(self, name: str, password: str) -> User:
        self._check(name, None, password)
        return self._update(
            name, "UPDATE users SET hash = ?, changed = ? WHERE name = ?", _HASHER.hash(password)
        )

    def set_role(self, name: str, role: str) -> User:
        self._check(name, role, None)
        return self._update(name, "UPDATE users SET role = ?, changed = ? WHERE name = ?", role)

    def set_disabled(self, name: str, disabled: bool) -> User:
        return self._update(name, "UPDATE users SET disabled = ?, changed = ? WHERE name = ?", int(disabled))

    # -- rows as stored, for a replica of the site's shared credentials (credentials_shared) --

    def row(self, name: str) -> tuple[str, str, str, int, int, int] | None:
        """(name, role, hash, disabled, created µs, changed µs)."""
        with closing(self._connect()) as db:
            found = db.execute(
                "SELECT name, role, hash, disabled, created, changed FROM users WHERE name = ?", (name,)
            ).fetchone()
        return None if found is None else tuple(found)

    def put_row(self, row: tuple[str, str, str, int, int, int]) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO users (name, role, hash, disabled, created, changed)"
                       " VALUES (?, ?, ?, ?, ?, ?)", row)  # fmt: skip

    @staticmethod
    def hashed(password: str) -> str:
        return _HASHER.hash(password)

    @staticmethod
    def matches(stored_hash: str, password: str) -> bool:
        try:
            return bool(_HASHER.verify(stored_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def spend(password: str) -> None:
        """The work of a check for a name that does not exist: no timing hint that it does not."""
        _HASHER.hash(password)

    def verify(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs and the account is enabled, else None."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT hash FROM users WHERE name = ? AND disabled = 0", (name,)).fetchone()
        if row is None:
            _HASHER.hash(password)  # the same work either way: no timing hint that a name exists
            return None
        try:
            _HASHER.verify(row[0], password)
        except (VerificationError, InvalidHashError):
            return None
        if _HASHER.check_needs_rehash(row[0]):
            self.set_password(name, password)
        return self.get(name)
