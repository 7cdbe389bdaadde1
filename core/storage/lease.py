"""One pager per site among redundant servers: a leader lease in Cassandra.

Every server of a site runs the same pipeline; only the holder of the site's lease pages. The
lease is one row, taken with a lightweight transaction (``INSERT … IF NOT EXISTS USING TTL``,
Paxos: two servers can never both win) and renewed every ``ttl/5`` with ``UPDATE … IF owner =
me``. A server that stops renewing (killed, paused, cut off) loses the row when its TTL runs
out, and the next server to try takes it: failover needs no operator.

**Fencing.** A server counts itself leader only until ``sent + ttl − renew period``, where
``sent`` is the monotonic time just *before* the renewing transaction left; Cassandra counts
the TTL from its write, later than that. So a process paused past its lease (SIGSTOP, a VM
frozen) knows on waking that it may no longer lead, before sending anything, and stays a
follower until a transaction says otherwise.

**Cassandra unreachable.** Then no server can prove it leads. Paging is what the system is
for, so after a whole TTL without an answer from Cassandra every server pages ("fail open":
a page twice is better than no page in a flood), and says so in the log and ``/health``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

_LOGGER = logging.getLogger(__name__)


@functools.cache
def owner_name() -> str:
    """This server among the site's: the host, the process and a random part (a restarted pid
    differs). One name per process, the same in the lease, the command relay, the audit trail,
    ``/health`` and ``/metrics``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """The site's leader lease. ``connect()`` opens a Cassandra session on the keyspace and
    returns ``(cluster, session)``; it is called (again) until it succeeds, from a worker
    thread like every query, never from the loop."""

    def __init__(
        self,
        connect: Callable[[], tuple[Any, Any]],
        site: str,
        owner: str,
        ttl_s: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect, self.site, self.owner = connect, site, owner
        self._cluster: Any = None
        self.session: Any = None
        self.ttl_s = float(max(3, math.ceil(ttl_s)))  # CQL TTLs are whole seconds
        self.renew_s = self.ttl_s / 5
        self._monotonic = monotonic
        self._until = -math.inf  # leading while monotonic() < this
        self._unreachable_since: float | None = None
        self.leader: str | None = None  # the holder as last read, this server or another
        self.changes = 0  # how many times this server gained or lost the lead
        self._listeners: list[Callable[[bool], None]] = []
        self._was_leading = False
        self._task: asyncio.Task[None] | None = None

    # -- what the pager asks ------------------------------------------------------------------

    def leading(self) -> bool:
        """May this server page now (see the module's docstring)?"""
        now = self._monotonic()
        if now < self._until:
            return True
        return self._unreachable_since is not None and now - self._unreachable_since >= self.ttl_s

    @property
    def fail_open(self) -> bool:
        """True while paging without a lease because Cassandra cannot be reached."""
        return self.leading() and self._monotonic() >= self._until

    def on_change(self, listener: Callable[[bool], None]) -> None:
        """``listener(leading)`` when this server gains or loses the lead."""
        self._listeners.append(listener)

    # -- the renewal loop ---------------------------------------------------------------------

    async def start(self) -> None:
        await self.cycle()
        self._task = asyncio.create_task(self._run(), name="leader lease")

    async def stop(self) -> None:
        """Stop renewing and hand the lease back at once, so that another server takes over
        without waiting for the TTL."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._monotonic() < self._until and self.session is not None:
            self._until = -math.inf
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    self.session.execute,
                    "DELETE FROM leases WHERE site = %s IF owner = %s",
                    (self.site, self.owner),
                )
        self._until, self._unreachable_since = -math.inf, None
        self._announce(stopping=True)
        if self._cluster is not None:
            await asyncio.to_thread(self._cluster.shutdown)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.renew_s)
            await self.cycle()

    async def cycle(self) -> None:
        """Take or renew the lease once; never raises (Cassandra down is a state, not an error)."""
        sent = self._monotonic()
        try:
            held, holder = await asyncio.to_thread(self._transact, sent < self._until)
        except Exception as err:
            if self._unreachable_since is None:
                self._unreachable_since = sent
                _LOGGER.error("leader lease: Cassandra unreachable (%s); every server pages after %g s",
                              err, self.ttl_s)  # fmt: skip
        else:
            self._unreachable_since = None
            self.leader = holder
            self._until = sent + self.ttl_s - self.renew_s if held else -math.inf
        self._announce()

    def _transact(self, renewing: bool) -> tuple[bool, str | None]:
        if self.session is None:
            self._cluster, session = self._connect()
            session.execute("CREATE TABLE IF NOT EXISTS leases (site text PRIMARY KEY, owner text)")
            self.session = session
        ttl = int(self.ttl_s)
        if renewing:
            result = self.session.execute(
                f"UPDATE leases USING TTL {ttl} SET owner = %s WHERE site = %s IF owner = %s",
                (self.owner, self.site, self.owner),
            )
            if result.was_applied:
                return True, self.owner
        result = self.session.execute(
            f"INSERT INTO leases (site, owner) VALUES (%s, %s) IF NOT EXISTS USING TTL {ttl}",
            (self.site, self.owner),
        )
        if result.was_applied:
            return True, self.owner
        row = result.one()
        holder = getattr(row, "owner", None) if row is not None else None
        return holder == self.owner, holder  # our own row, written by a renewal that timed out

    def _announce(self, stopping: bool = False) -> None:
        leading = self.leading()
        if leading == self._was_leading:
            return
        self._was_leading = leading
        self.changes += 1
        if leading:
            _LOGGER.warning("leader lease: %s now leads site %r%s", self.owner, self.site,
                            " (fail open: Cassandra unreachable)" if self.fail_open else "")  # fmt: skip
        elif stopping:
            _LOGGER.info("leader lease: %s stops and hands site %r back", self.owner, self.site)
        else:
            _LOGGER.warning(
                "leader lease: %s no longer leads site %r (leader: %s)", self.owner, self.site, self.leader
            )
        for listener in list(self._listeners):
            try:
                listener(leading)
            except Exception:
                _LOGGER.exception("leader lease listener failed")
