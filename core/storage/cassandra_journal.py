"""The alarm journal with Cassandra: written locally first, then forwarded to the shared tables.

A transition is recorded in the local SQLite journal (durable at once, and what a restart
reloads, so alarms survive even a Cassandra outage), then forwarded in order to Cassandra,
where every server of the site and the API read it. A watermark of the last forwarded event
sits in the local file: after a crash or an outage, forwarding resumes from there, and rows
written twice are the same rows (keyed by time, server and sequence).

Every server of the site journals what it observes, so a transition is in Cassandra once per
server: it is read back once, attributed to the server that journaled it first (``origin``).
Two rows are one transition when they are the same change of the same alarm (action, state,
user) from two servers within ``_SAME_S`` of each other: both engines judge the same samples,
and an operator's command reaches the other servers through the command relay in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from cassandra.cluster import Cluster, Session

from core.alarms.journal import StoredAlarm
from core.config.schema import Cassandra
from core.model import AlarmAction, AlarmEvent, AlarmStatus, Priority, from_us, to_us
from core.storage.base import DAY_US
from core.storage.cassandra_session import connect
from core.storage.sqlite_journal import SQLiteAlarmJournal

_LOGGER = logging.getLogger(__name__)
_CHUNK = 2_000
_MARK = "cassandra"
_SAME_US = 10_000_000  # the same transition seen by two servers: their clocks and relays differ less


_STATE_COLUMNS = "alarm, status, active, since, shelved_until, ack_user, ack_ts, raised_value"
_EVENT_COLUMNS = (
    "day, ts, origin, seq, alarm, tag, action, status, active, priority, value, threshold, "
    "message_fr, message_en, user, comment"
)


class JournalReplica:
    """The alarm journal's tables in Cassandra, shared by every server of the site (blocking calls).

    Events are partitioned by day and clustered by (time, origin server, local sequence), so a
    replay after a crash rewrites the same rows and two servers never overwrite each other.
    """

    def __init__(self, settings: Cassandra, password: str | None) -> None:
        self.settings, self._password = settings, password
        self._cluster: Cluster | None = None
        self._session: Session | None = None

    def open(self) -> None:
        cluster, session = connect(self.settings, self._password)
        session.execute(
            "CREATE TABLE IF NOT EXISTS alarm_events (day bigint, ts bigint, origin text, seq bigint, "
            "alarm text, tag text, action text, status text, active boolean, priority int, value double, "
            "threshold double, message_fr text, message_en text, user text, comment text, "
            "PRIMARY KEY ((day), ts, origin, seq))"
        )
        session.execute(
            "CREATE TABLE IF NOT EXISTS alarm_state (alarm text PRIMARY KEY, status text, active boolean, "
            "since bigint, shelved_until bigint, ack_user text, ack_ts bigint, raised_value double)"
        )
        columns = {row.column_name for row in session.execute(
            "SELECT column_name FROM system_schema.columns WHERE keyspace_name = %s AND table_name = "
            "'alarm_state'", (self.settings.keyspace,))}  # fmt: skip
        if "raised_value" not in columns:  # a keyspace made before the raised value was kept
            session.execute("ALTER TABLE alarm_state ADD raised_value double")
        self._insert = session.prepare(
            f"INSERT INTO alarm_events ({_EVENT_COLUMNS}) VALUES ({', '.join('?' * 16)})"
        )
        self._state = session.prepare(
            f"INSERT INTO alarm_state ({_STATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        self._select = session.prepare(
            f"SELECT {_EVENT_COLUMNS} FROM alarm_events WHERE day = ? AND ts >= ? AND ts < ?"
        )
        for statement in (self._insert, self._state, self._select):
            statement.is_idempotent = True
        self._cluster, self._session = cluster, session

    @property
    def is_open(self) -> bool:
        return self._session is not None

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster = self._session = None

    def write(
        self, origin: str, events: Sequence[tuple[int, tuple[Any, ...]]], states: Sequence[tuple[Any, ...]]
    ) -> None:
        """Write events ``(seq, (ts, alarm, tag, action, …))`` and states, in order of sequence."""
        assert self._session is not None
        from cassandra.concurrent import execute_concurrent_with_args

        rows = [(ts // DAY_US, ts, origin, seq, *rest) for seq, (ts, *rest) in events]
        for result in execute_concurrent_with_args(self._session, self._insert, rows, concurrency=64,
                                                   raise_on_first_error=True):  # fmt: skip
            _ = result
        execute_concurrent_with_args(
            self._session, self._state, list(states), concurrency=64, raise_on_first_error=True
        )

    def states(self) -> list[Any]:
        """Every alarm's last stored state, as the site's servers forwarded it."""
        assert self._session is not None
        return list(self._session.execute(f"SELECT {_STATE_COLUMNS} FROM alarm_state"))

    def events(self, since: int, until: int) -> list[Any]:
        assert self._session is not None
        rows: list[Any] = []
        for day in range(since // DAY_US, (until - 1) // DAY_US + 1):
            rows.extend(self._session.execute(self._select, (day, since, until)))
        return rows


class CassandraAlarmJournal:
    def __init__(self, settings: Cassandra, local_path: Path, password: str | None = None,
                 origin: str | None = None) -> None:  # fmt: skip
        self.local = SQLiteAlarmJournal(local_path)
        self.replica = JournalReplica(settings, password)
        self.origin = origin or f"{socket.gethostname()}:{local_path}"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self.local.start()
        try:
            await asyncio.to_thread(self.replica.open)
        except Exception as err:
            _LOGGER.error("alarm journal: Cassandra unreachable (%s); kept locally and forwarded later", err)
        self._task = asyncio.create_task(self._forwarding(), name="journal-forward")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.local.flush()
        with contextlib.suppress(Exception):
            await self._forward()
        await asyncio.to_thread(self.replica.close)
        await self.local.stop()

    def record(self, event: AlarmEvent, state: StoredAlarm) -> None:
        self.local.record(event, state)
        self._wake.set()

    async def flush(self) -> None:
        """Durable locally; forwarded too when Cassandra answers."""
        await self.local.flush()
        if self.replica.is_open:
            try:
                await self._forward()
            except Exception as err:
                _LOGGER.warning("alarm journal: forwarding postponed: %s", err)

    async def load(self) -> dict[str, StoredAlarm]:
        """The local file's states; for a server that has none yet (a new VM, a replaced disk),
        the site's, as the other servers forwarded them to Cassandra."""
        states = await self.local.load()
        if states or not self.replica.is_open:
            return states
        try:
            rows = await asyncio.to_thread(self.replica.states)
        except Exception as err:
            _LOGGER.warning("alarm journal: cannot read the site's alarm states from Cassandra (%s)", err)
            return states
        if rows:
            _LOGGER.warning("alarm journal: no local state; %d alarm states restored from Cassandra",
                            len(rows))  # fmt: skip
        return {r.alarm: _state(r) for r in rows}

    async def events(
        self, since: datetime, until: datetime, alarm: str | None = None, limit: int = 10_000
    ) -> list[AlarmEvent]:
        """From Cassandra (every server's transitions); from the local file while it is away."""
        if not self.replica.is_open:
            return await self.local.events(since, until, alarm, limit)
        await self.flush()
        try:
            rows = await asyncio.to_thread(self.replica.events, to_us(since), to_us(until))
        except Exception as err:
            _LOGGER.warning("alarm journal: Cassandra read failed (%s); answering from the local file", err)
            return await self.local.events(since, until, alarm, limit)
        rows = once([r for r in rows if alarm is None or r.alarm == alarm])
        return [_event(r) for r in rows[:limit]]

    async def _forward(self) -> None:
        async with self._lock:
            if not self.replica.is_open:
                await asyncio.to_thread(self.replica.open)
            while True:
                mark = await self.local.mark(_MARK)
                events = await self.local.after(mark, _CHUNK)
                if not events:
                    return
                states = await self.local.state_rows({row[1] for _, row in events})
                await asyncio.to_thread(self.replica.write, self.origin, events, states)
                await self.local.set_mark(_MARK, events[-1][0])

    async def _forwarding(self) -> None:
        pause = 1.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=pause)
            self._wake.clear()
            await self.local.flush()
            try:
                await self._forward()
                pause = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as err:
                _LOGGER.warning("alarm journal: Cassandra unreachable (%s); forwarding later", err)
                pause = min(pause * 2, 30.0)


def once(rows: list[Any]) -> list[Any]:
    """Each transition once, in order of time: the first server's row of each (see the module)."""
    kept: list[Any] = []
    seen: dict[tuple[Any, ...], list[tuple[Any, set[str]]]] = {}
    for r in sorted(rows, key=lambda r: (r.ts, r.origin, r.seq)):
        same = seen.setdefault((r.alarm, r.action, r.status, r.active, r.user or ""), [])
        twin = next((o for row, o in reversed(same) if r.origin not in o and r.ts - row.ts <= _SAME_US), None)
        if twin is not None:
            twin.add(r.origin)  # another server's row of a transition already kept
            continue
        same.append((r, {r.origin}))
        kept.append(r)
    return kept


def _event(r: Any) -> AlarmEvent:
    return AlarmEvent(
        r.alarm, r.tag, from_us(r.ts), AlarmAction(r.action), AlarmStatus(r.status), r.active,
        Priority(r.priority), r.value, r.threshold, r.message_fr or "", r.message_en or "", r.user or "",
        r.comment or "", r.origin,
    )  # fmt: skip


def _at(us: int | None) -> datetime | None:
    return None if us is None else from_us(us)


def _state(r: Any) -> StoredAlarm:
    return StoredAlarm(r.alarm, AlarmStatus(r.status), bool(r.active), _at(r.since), _at(r.shelved_until),
                       r.ack_user or "", _at(r.ack_ts), r.raised_value)  # fmt: skip
