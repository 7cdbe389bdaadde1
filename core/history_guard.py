"""When the historian cannot write (a full disk): say it, keep what the stations sent, resume.

The REST API answers 503 for the batches it could not store (the client keeps and retries
them). Station samples have nobody to retry them: up to ``_KEPT_ROWS`` of them are kept in
memory and stored, in order, as soon as a write succeeds again. The supervision's "historian"
alarm is raised while writes fail and clears itself when they succeed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence

from core.alarms.engine import AlarmEngine
from core.model import Sample
from core.storage.base import WRITE_FAILED, HistorianDown

_LOGGER = logging.getLogger(__name__)
_KEPT_ROWS = 500_000  # about 80 MB: 1,000 tags at 1 Hz for over 8 minutes


class HistoryGuard:
    def __init__(
        self, alarms: AlarmEngine, submit: Callable[[Sequence[Sample]], asyncio.Future[None]]
    ) -> None:
        self._alarms = alarms
        self._submit = submit
        self._kept: deque[Sequence[Sample]] = deque()
        self._kept_rows = 0
        self.failing: str | None = None  # why writes fail now (words: refusal section)
        self.errors = 0
        self.dropped_rows = 0  # station samples neither stored nor kept (past _KEPT_ROWS)

    def store(self, samples: Sequence[Sample]) -> None:
        """A station's samples: stored, or kept until the historian writes again."""
        self._submit(samples).add_done_callback(lambda done: self._stored(done, samples))

    def watch(self, future: asyncio.Future[None]) -> None:
        """A write whose caller hears the outcome itself (the REST API): only watched."""
        future.add_done_callback(lambda done: self._stored(done, None))

    @property
    def kept_rows(self) -> int:
        return self._kept_rows

    def _stored(self, future: asyncio.Future[None], samples: Sequence[Sample] | None) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is None:
            if self.failing is not None:
                self._recovered()
            return
        self.errors += 1
        reason = error.reason if isinstance(error, HistorianDown) else WRITE_FAILED
        if self.failing != reason:
            _LOGGER.error("historian write failed (%s): %s; station samples kept in memory", reason, error)
            self.failing = reason
            self._alarms.supervision("historian", True, fault=reason)
        if samples is not None:
            self._keep(samples)

    def _keep(self, samples: Sequence[Sample]) -> None:
        self._kept.append(samples)
        self._kept_rows += len(samples)
        while self._kept_rows > _KEPT_ROWS:
            oldest = self._kept.popleft()
            self._kept_rows -= len(oldest)
            self.dropped_rows += len(oldest)

    def _recovered(self) -> None:
        _LOGGER.warning("historian writes again: %d kept station samples stored now", self._kept_rows)
        self.failing = None
        self._alarms.supervision("historian", False)
        kept, self._kept, self._kept_rows = self._kept, deque(), 0
        for samples in kept:
            self.store(samples)
