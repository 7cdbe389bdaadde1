"""Operator commands shared by redundant servers: what one server's operator did, every server does.

An acknowledgement of a paged alarm already reaches every server through its incident; a
shelve, a reset, a service change, a mode, or an acknowledgement of an alarm no route pages,
would otherwise stay in the engine of the server that received it, and the leader could page
an alarm that an operator shelved on a follower. So each server appends the commands it carried
out to Cassandra's ``ops_log`` (partitioned by day, ordered by a time UUID) and, every second,
reads the others' and carries them out in its own engine, in the name of the same operator,
audited as relayed. A server that was stopped resumes from the last entry it applied (kept in
its data directory): a shelve made meanwhile is applied for what is left of its duration.
Commands that no longer apply (an alarm already acknowledged, a shelve already over) are
skipped: every engine converges on the same states.

Calls to Cassandra run on a worker thread; the commands are applied on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.storage.base import DAY_US

_LOGGER = logging.getLogger(__name__)
_EVERY_S = 1.0
_UUID_EPOCH = 0x01B21DD213814000  # a time UUID counts 100 ns from 1582-10-15; POSIX time from 1970
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ops_log (day bigint, id timeuuid, origin text, body text, "
    "PRIMARY KEY ((day), id)) WITH CLUSTERING ORDER BY (id ASC)"
)

Apply = Callable[[dict[str, Any], datetime, str], None]  # (command, when, origin server)


def _day(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000) // DAY_US


class CommandRelay:
    def __init__(self, connect: Callable[[], tuple[Any, Any]], origin: str, cursor_file: Path) -> None:
        self._connect, self.origin, self._cursor_file = connect, origin, cursor_file
        self._cluster: Any = None
        self._session: Any = None
        self._outbox: deque[dict[str, Any]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._apply: Apply | None = None
        self._cursor: uuid.UUID | None = None
        self.relayed = 0  # commands of other servers carried out here
        self.errors = 0

    def publish(self, command: dict[str, Any]) -> None:
        """A command this server carried out, for the others (sent within a second)."""
        self._outbox.append(command)

    def start(self, apply: Apply) -> None:
        self._apply = apply
        with contextlib.suppress(OSError, ValueError):
            self._cursor = uuid.UUID(self._cursor_file.read_text(encoding="utf-8").strip())
        self._task = asyncio.create_task(self._run(), name="command relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._flush)
        if self._cluster is not None:
            await asyncio.to_thread(self._cluster.shutdown)

    # -- the worker side ---------------------------------------------------------------------

    def _db(self) -> Any:
        if self._session is None:
            cluster, session = self._connect()
            session.execute(_SCHEMA, timeout=30)
            self._cluster, self._session = cluster, session
        return self._session

    def _flush(self) -> None:
        while self._outbox:
            command = self._outbox[0]
            now = datetime.now(UTC)
            self._db().execute(
                "INSERT INTO ops_log (day, id, origin, body) VALUES (%s, now(), %s, %s)",
                (_day(now), self.origin, json.dumps(command)),
            )
            self._outbox.popleft()

    def _read(self) -> list[Any]:
        """The other servers' entries after the cursor (the last two days at most)."""
        now = datetime.now(UTC)
        if self._cursor is None:  # a first start: from now on (earlier states come with the journal)
            self._cursor = uuid.uuid1()
            return []
        rows: list[Any] = []
        for day in (_day(now - timedelta(days=1)), _day(now)):
            rows += self._db().execute(
                "SELECT id, origin, body FROM ops_log WHERE day = %s AND id > %s", (day, self._cursor)
            )
        return rows

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self._flush)
                rows = await asyncio.to_thread(self._read)
                for row in rows:
                    if row.origin != self.origin and self._apply is not None:
                        when = datetime.fromtimestamp((row.id.time - _UUID_EPOCH) / 1e7, UTC)
                        try:
                            self._apply(json.loads(row.body), when, row.origin)
                            self.relayed += 1
                        except Exception:
                            _LOGGER.exception(
                                "a command from %s could not be applied: %s", row.origin, row.body
                            )
                    self._cursor = row.id
                if rows:
                    await asyncio.to_thread(self._cursor_file.write_text, str(self._cursor), "utf-8")
            except asyncio.CancelledError:
                raise
            except Exception as err:  # Cassandra away: the outbox waits, the others' commands too
                self.errors += 1
                _LOGGER.warning("operator commands not shared with the other servers yet: %s", err)
                cluster, self._cluster, self._session = self._cluster, None, None
                if cluster is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(cluster.shutdown)
            await asyncio.sleep(_EVERY_S)
