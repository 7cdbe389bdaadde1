"""API bearer tokens, stored hashed in SQLite beside the historian.

A token is shown once, when created (``ecreteur token create``); only its SHA-256 is kept, so
a stolen database does not give access. Tokens are 32 random bytes, so a plain hash is enough
(no password-style stretching), and lookup by hash keeps comparison constant-time.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core.model import from_us, to_us, utcnow
from core.storage.paths import private_file

SCOPES = ("read", "ingest", "operate", "engineer", "admin")
_PREFIX = "ecr_"
_SESSION_PREFIX = "ecs_"
ROLE_SCOPES = {
    "viewer": ("read",),
    "operator": ("read", "operate"),
    "engineer": ("read", "operate", "engineer"),
    "admin": ("admin",),
}


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer's rights: an API token (a machine), or a signed-in operator's session (``user``)."""

    name: str
    scopes: frozenset[str]
    created: datetime
    user: str | None = None  # the authenticated operator, for a session
    expires: datetime | None = None
    via: str = "session"  # how a session reached the API: the desktop's bearer, or a browser's cookie

    def allows(self, scope: str) -> bool:
        """``admin`` allows everything; ``engineer`` includes ``operate``."""
        if scope in self.scopes or "admin" in self.scopes:
            return True
        return scope == "operate" and "engineer" in self.scopes


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._watch: sqlite3.Connection | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS tokens (name TEXT PRIMARY KEY, digest TEXT NOT NULL UNIQUE,"
                " scopes TEXT NOT NULL, created INTEGER NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS sessions (digest TEXT PRIMARY KEY, user TEXT NOT NULL,"
                " role TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL)"
            )

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(private_file(self.path))

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def generation(self) -> int:
        """A number that changes whenever tokens, sessions or accounts change, from any process
        (SQLite's ``data_version`` seen from a connection that never writes): a cache of
        verified tokens is valid while it stays the same."""
        if self._watch is None:
            self._watch = sqlite3.connect(private_file(self.path), check_same_thread=False)
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def create(self, name: str, scopes: list[str]) -> str:
        """Create a token and return its secret value (shown once, never stored)."""
        unknown = set(scopes) - set(SCOPES)
        if unknown or not scopes:
            raise ValueError(f"scopes must be among {', '.join(SCOPES)}")
        secret = _PREFIX + secrets.token_urlsafe(32)
        try:
            with self._db() as db:
                db.execute(
                    "INSERT INTO tokens VALUES (?, ?, ?, ?)",
                    (name, digest(secret), " ".join(sorted(set(scopes))), to_us(utcnow())),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"a token named {name!r} exists already; revoke it first") from None
        return secret

    def verify(self, secret: str) -> Token | None:
        if secret.startswith(_SESSION_PREFIX):
            return self._session(secret)
        with self._db() as db:
            row = db.execute(
                "SELECT name, scopes, created FROM tokens WHERE digest = ?", (digest(secret),)
            ).fetchone()
        return None if row is None else Token(row[0], frozenset(row[1].split()), from_us(row[2]))

    # -- operators' sessions (signed in with a name and a password) ---------------------------

    def open_session(self, user: str, role: str, lasts: timedelta) -> tuple[str, datetime]:
        """A bearer secret for ``user`` (shown once) and when it expires."""
        secret = _SESSION_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (to_us(now),))
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                       (digest(secret), user, role, to_us(now), to_us(now + lasts)))  # fmt: skip
        return secret, now + lasts

    def close_session(self, secret: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE digest = ?", (digest(secret),))

    def close_sessions_of(self, user: str) -> None:
        """A disabled account or a changed password ends the user's sessions at once."""
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE user = ?", (user,))

    def _session(self, secret: str) -> Token | None:
        with self._db() as db:
            row = db.execute(
                "SELECT user, role, created, expires FROM sessions WHERE digest = ? AND expires >= ?",
                (digest(secret), to_us(utcnow())),
            ).fetchone()
        if row is None:
            return None
        user, role, created, expires = row
        scopes = frozenset(ROLE_SCOPES.get(role, ()))
        return Token(f"session {user}", scopes, from_us(created), user=user, expires=from_us(expires))

    def list(self) -> list[Token]:
        with self._db() as db:
            rows = db.execute("SELECT name, scopes, created FROM tokens ORDER BY name").fetchall()
        return [Token(name, frozenset(scopes.split()), from_us(created)) for name, scopes, created in rows]

    def revoke(self, name: str) -> bool:
        with self._db() as db:
            return db.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount > 0

    # -- rows as stored, for a replica of the site's shared credentials (credentials_shared) --

    def put_token_row(self, name: str, token_digest: str, scopes: str, created: int) -> None:
        with self._db() as db:
            db.execute("DELETE FROM tokens WHERE name = ? OR digest = ?", (name, token_digest))
            db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?)", (name, token_digest, scopes, created))

    def put_session_row(self, session_digest: str, user: str, role: str, created: int, expires: int) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?)",
                       (session_digest, user, role, created, expires))  # fmt: skip

    def forget(self, secret_digest: str) -> None:
        """Drop a token or a session by its digest (revoked or ended elsewhere)."""
        with self._db() as db:
            db.execute("DELETE FROM tokens WHERE digest = ?", (secret_digest,))
            db.execute("DELETE FROM sessions WHERE digest = ?", (secret_digest,))
