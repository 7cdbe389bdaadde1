"""Sign-in throttling: a password guesser gets slower answers, a tired operator does not.

Five failed attempts for one name (or from one address) within a quarter of an hour lock it for
30 s, then 60, 120… up to 15 min; a success forgets the name's failures. Kept in memory: a
restart of the server forgets them, which costs a guesser five more tries, not a way in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

_FREE_TRIES = 5
_WINDOW_S = 900.0
_FIRST_LOCK_S = 30.0
_MAX_LOCK_S = 900.0
_MAX_KEYS = 10_000  # bounded: a flood of made-up names cannot grow it for ever


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0
    locks: int = 0


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._records: dict[str, _Record] = {}
        self._now = clock

    def wait(self, *keys: str) -> float:
        """Seconds before any of ``keys`` may try again (0: now)."""
        now = self._now()
        return max((r.locked_until - now for k in keys if (r := self._records.get(k))), default=0.0)

    def failed(self, *keys: str) -> None:
        now = self._now()
        if len(self._records) > _MAX_KEYS:
            self._records = {k: r for k, r in self._records.items() if r.locked_until > now}
        for key in keys:
            record = self._records.setdefault(key, _Record())
            record.failures = [t for t in record.failures if now - t < _WINDOW_S] + [now]
            if len(record.failures) >= _FREE_TRIES:
                record.locked_until = now + min(_FIRST_LOCK_S * 2**record.locks, _MAX_LOCK_S)
                record.locks += 1
                record.failures.clear()

    def succeeded(self, key: str) -> None:
        self._records.pop(key, None)
