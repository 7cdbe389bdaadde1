"""Sign-in throttling: a password guesser gets slower answers, the real user still signs in.

Failures are counted three ways, each within a quarter of an hour:
- per account *and* source (5): the guesser at one place is slowed on that account;
- per source (10): one place guessing many names is slowed on all of them;
- per account (20): guesses from rotating addresses slow that account, but **only for sources
  the account never signed in from**.

A source is a browser's device cookie when it has one (set at each successful sign-in), else its
address. A known device or the addresses an account last signed in from are never locked out by
other people's guesses: a stranger cannot keep an on-call technician out of their own account.
A lock lasts 30 s, then 60, 120… up to 15 min. Kept in memory: a restart forgets everything,
which costs a guesser a few more tries, not a way in (the password hashes are argon2id).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

_PAIR_TRIES = 5
_SOURCE_TRIES = 10
_ACCOUNT_TRIES = 20
_WINDOW_S = 900.0
_FIRST_LOCK_S = 30.0
_MAX_LOCK_S = 900.0
_MAX_KEYS = 10_000  # bounded: a flood of made-up names cannot grow it for ever
_KNOWN_PER_ACCOUNT = 8  # the last devices and addresses an account signed in from


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0
    locks: int = 0


@dataclass(frozen=True, slots=True)
class Attempt:
    """Who tries: the account named, the address, and the browser's device cookie if any."""

    account: str
    address: str
    device: str | None = None

    @property
    def source(self) -> str:
        return f"device:{self.device}" if self.device else f"ip:{self.address}"


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._records: dict[str, _Record] = {}
        self._known: OrderedDict[str, list[str]] = OrderedDict()
        self._now = clock

    def known(self, attempt: Attempt) -> bool:
        """The account signed in from this device (or, without one, this address) lately."""
        seen = self._known.get(attempt.account, [])
        return f"ip:{attempt.address}" in seen or (attempt.device is not None and attempt.source in seen)

    def wait(self, attempt: Attempt) -> float:
        """Seconds before this attempt may be tried (0: now)."""
        keys = [self._pair(attempt)]
        if not self.known(attempt):
            keys += [attempt.source, f"ip:{attempt.address}", f"user:{attempt.account}"]
        now = self._now()
        return max([0.0, *(r.locked_until - now for k in keys if (r := self._records.get(k)))])

    def failed(self, attempt: Attempt) -> None:
        now = self._now()
        if len(self._records) > _MAX_KEYS:
            self._records = {k: r for k, r in self._records.items() if r.locked_until > now}
        self._count(self._pair(attempt), _PAIR_TRIES, now)
        self._count(f"ip:{attempt.address}", _SOURCE_TRIES, now)
        self._count(f"user:{attempt.account}", _ACCOUNT_TRIES, now)

    def succeeded(self, attempt: Attempt, browser: bool = True) -> str | None:
        """Forget this source's failures on the account, remember the source; return the
        device cookie's value for a browser to keep (its old one, or a new one). A desktop or a
        script keeps no cookie: it is remembered by its address alone, so that its sign-ins do
        not push the account's browsers out of the remembered places."""
        self._records.pop(self._pair(attempt), None)
        device = None
        if browser:
            device = attempt.device if attempt.device and self.known(attempt) else secrets.token_urlsafe(18)
        fresh = [f"device:{device}"] * (device is not None) + [f"ip:{attempt.address}"]
        seen = [s for s in self._known.pop(attempt.account, []) if s not in fresh]
        self._known[attempt.account] = [*fresh, *seen][:_KNOWN_PER_ACCOUNT]
        while len(self._known) > _MAX_KEYS:
            self._known.popitem(last=False)
        return device

    @staticmethod
    def _pair(attempt: Attempt) -> str:
        return f"user:{attempt.account}|{attempt.source}"

    def _count(self, key: str, tries: int, now: float) -> None:
        record = self._records.setdefault(key, _Record())
        record.failures = [t for t in record.failures if now - t < _WINDOW_S] + [now]
        if len(record.failures) >= tries:
            record.locked_until = now + min(_FIRST_LOCK_S * 2**record.locks, _MAX_LOCK_S)
            record.locks += 1
            record.failures.clear()
