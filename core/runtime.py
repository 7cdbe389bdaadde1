"""Builds the pipeline from a site config and runs it: the same for desktop and server.

station links ──► bus ──► historian, alarm engine (──► journal), views

The runtime keeps the latest sample of every tag and the state of every station so that a view
opening late (or a terminal table) shows the current picture at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from core.acquisition.api import ApiLink
from core.acquisition.link import SourceLink
from core.acquisition.sources import build_link
from core.acquisition.trust import TrustStore
from core.alarms.engine import AlarmEngine
from core.alarms.journal import AlarmJournal
from core.bus import BACKFILL, SAMPLES, STATION_STATUS, Bus, Stored
from core.clock import Clock, LoopClock
from core.config.editor import clean_temporaries
from core.config.schema import SiteConfig
from core.history_guard import HistoryGuard
from core.model import Sample, StationStatus
from core.notify import factory
from core.notify.cascade import Cascade
from core.notify.phone import PhoneDesk
from core.notify.twilio.webhooks import Webhooks
from core.site.board import AlarmBoard, LocalBoard
from core.site.commands import Acknowledge
from core.site.oncall import OnCallView, read_oncall, teams_on_call
from core.site.operations import Actor, OperationError, Operations, Role
from core.storage.audit import AuditStore
from core.storage.base import Historian
from core.storage.lease import Lease
from core.storage.lock import AuthorityLock
from core.storage.paths import StatePaths
from core.storage.retention import RetentionGuard
from core.storage.select import (
    build_command_relay,
    build_historian,
    build_journal,
    build_lease,
    build_paging_store,
)

if TYPE_CHECKING:
    from core.client.remote import ServerBoard
    from core.client.session import Session

_LOGGER = logging.getLogger(__name__)
_RETENTION_PERIOD_S = 3600.0


class Runtime:
    """The running site: bus, historian, station links, and the live picture."""

    def __init__(
        self,
        config: SiteConfig,
        *,
        config_path: Path | None = None,
        data_dir: Path | None = None,
        historian: Historian | None = None,
        journal: AlarmJournal | None = None,
        clock: Clock | None = None,
        session: Session | None = None,
    ) -> None:
        """With a ``session`` this is a desktop client of the site's server: it reads and
        commands the server's alarms, evaluates its own only to annunciate while the server is
        lost, and never pages (the server is the site's only pager)."""
        self.config = config
        self.config_path = config_path  # where the desktop saves edited dashboards
        self.bus = Bus()
        base = config_path.parent if config_path else Path.cwd()
        self.data_dir = data_dir or Path.cwd()
        self.historian = historian or build_historian(config.storage, self.data_dir)
        self.journal = journal or build_journal(config.storage, self.data_dir)
        self.clock: Clock = clock or LoopClock()  # a time-lapse's in the demo: every screen's "now"
        self.alarms = AlarmEngine(config, self.bus, self.journal, self.clock)
        self.paths = StatePaths(config.storage, self.data_dir)
        self.authority = AuthorityLock(self.paths.lock)
        self.audit = AuditStore(self.paths.audit)
        self.operations = Operations(self.alarms, self.audit)
        # redundant servers carry out each other's operator commands (a desktop client: the server does)
        self.commands = build_command_relay(config.storage, self.data_dir) if session is None else None
        if self.commands is not None:
            self.operations.relay = self.commands.publish
        self.board: AlarmBoard
        self.server: ServerBoard | None = None
        if session is not None:
            from core.client.relayed import RelayedLink
            from core.client.remote import ServerBoard  # a desktop client only: the server never loads it

            self.board = self.server = ServerBoard(
                session, self.bus, self.alarms, self.journal, self.historian
            )
        else:
            self.board = LocalBoard(
                self.bus, self.alarms, self.operations, self.journal, self.historian, self.oncall
            )
        self.cascade: Cascade | None = None
        self.webhooks: Webhooks | None = None
        self.lease: Lease | None = None
        if config.escalation is not None and session is None:
            self.lease = build_lease(config.storage)
            accounts = factory.build(config.notify)
            self.webhooks = accounts.webhooks
            self.cascade = Cascade(
                config,
                self.bus,
                self.alarms.clock,
                build_paging_store(config.storage, self.data_dir),
                accounts.channels,
                self._acknowledged_by_phone,
                self.alarms.situation,
                self.lease.leading if self.lease is not None else None,
            )
            if self.lease is not None:
                cascade = self.cascade
                self.lease.on_change(lambda leading: cascade.resume() if leading else None)
        self.latest: dict[str, Sample] = {}
        self.history = HistoryGuard(self.alarms, self.historian.submit)
        self.trust = TrustStore(self.paths.trust)
        trust_command = "ecreteur trust {station}"
        if config_path is not None:
            trust_command += f" --config {config_path} --data-dir {self.data_dir}"
        self.links: list[SourceLink] = [
            RelayedLink(station, config.tags_of(station.id), self.bus, clock, session)
            if session is not None and station.source == "api"  # only the server receives its posts
            else build_link(
                station,
                config.tags_of(station.id),
                self.bus,
                clock=clock,
                last_timestamp=self.historian.last_good_timestamp,
                base_dir=base,
                data_dir=self.data_dir,
                trust=self.trust,
                trust_command=trust_command,
                persistent=session is None,  # a desktop client's broker session need not outlive it
            )
            for station in config.stations
        ]
        for link in self.links:
            link.store = self._submit  # a source that confirms delivery (MQTT) does so once stored
            link.retention = timedelta(days=config.storage.retention_days)
        # posted samples tell an api station's link that its probe is alive
        self._posted_to = {
            tag.id: link for link in self.links if isinstance(link, ApiLink) for tag in link.tags
        }
        now = self.clock.now()
        self.stations = {
            link.station.id: StationStatus(link.station.id, link.state, now, "not started")
            for link in self.links
        }
        self._unsubscribe = [
            self.bus.subscribe(SAMPLES, self._store),
            self.bus.subscribe(BACKFILL, self._store),
            self.bus.subscribe(SAMPLES, self._remember),
            self.bus.subscribe(STATION_STATUS, self._station_changed),
        ]
        self._retention: asyncio.Task[None] | None = None
        self.retention_held = ""  # why the purge is refused now (a clock the data contradicts)

    async def start(self) -> None:
        """Open the stores, restore the alarms, then connect every station (each on its own).

        Raises :class:`DataDirInUse` when another process already supervises from the same files.
        """
        self.authority.acquire()
        if self.config_path is not None:
            clean_temporaries(self.config_path)  # a desktop killed mid-save left them
        await self.historian.start()
        await self.journal.start()
        await self.alarms.start()
        self.operations.start()
        if self.commands is not None:
            self.commands.start(self.operations.apply_relayed)
        if self.lease is not None:
            await self.lease.start()  # before the cascade: it pages only while leading
        if self.cascade is not None:
            await self.cascade.start()
        if self.server is not None:
            await self.server.start()
        for link in self.links:
            link.start()
        self._retention = asyncio.create_task(self._retain(), name="retention")

    async def stop(self) -> None:
        """Stop acquisition first, then flush the historian: nothing received is dropped."""
        if self._retention is not None:
            self._retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention
        await asyncio.gather(*(link.stop() for link in self.links))
        if self.server is not None:
            await self.server.stop()
        if self.cascade is not None:
            await self.cascade.stop()
        if self.lease is not None:
            await self.lease.stop()  # handed back: another server takes over at once
        if self.commands is not None:
            await self.commands.stop()
        await self.alarms.stop()
        await self.audit.flush()
        self.audit.close()
        await self.journal.stop()
        await self.historian.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.authority.release()

    async def ingest(self, samples: Sequence[Sample]) -> None:
        """Store ``samples`` durably, then publish them live (alarms, views) on the bus.

        For the REST API: a client is acknowledged only once this returns.
        """
        await self._submit(samples)  # raises HistorianDown while the disk is full: the client retries
        self.bus.publish(SAMPLES, Stored(samples))
        if self._posted_to:
            by_link: dict[ApiLink, list[Sample]] = {}
            for sample in samples:
                link = self._posted_to.get(sample.tag)
                if link is not None:
                    by_link.setdefault(link, []).append(sample)
            for link, posted in by_link.items():
                link.received_now(posted)

    def _acknowledged_by_phone(self, alarm_id: str, person: str, how: str) -> bool:
        """An SMS reply or a key press: the on-call person acts as an operator."""
        try:
            self.operations.carry(Actor(person, Role.OPERATOR, "phone"), Acknowledge(alarm_id, how))
        except OperationError:
            return False
        return True

    def oncall(self) -> OnCallView:
        """Who is on call and what this process's paging did (``core.site.oncall``)."""
        roster, now = self.config.roster, self.clock.now()
        if roster is None:
            return OnCallView(False)
        cascade = self.cascade
        if cascade is None:  # a roster, but nobody is paged from here
            return OnCallView(True, teams_on_call(roster, now), paging=False)
        down = cascade.outbox.channels_down()
        return read_oncall(roster, cascade.oncall, cascade.store, cascade.policies, down, now)

    @property
    def phone(self) -> PhoneDesk | None:
        """The paging's phone side (Twilio's webhooks), on a server that pages."""
        return self.cascade.phone if self.cascade is not None else None

    def historian_writable(self) -> bool:
        return self.historian.writable and self.history.failing is None

    @property
    def write_errors(self) -> int:
        return self.history.errors

    def _store(self, samples: Sequence[Sample]) -> None:
        if isinstance(samples, Stored):
            return
        self.history.store(samples)

    def _submit(self, samples: Sequence[Sample]) -> asyncio.Future[None]:
        future = self.historian.submit(samples)
        self.history.watch(future)
        return future

    def _remember(self, samples: Sequence[Sample]) -> None:
        latest = self.latest
        for sample in samples:
            previous = latest.get(sample.tag)
            if previous is None or sample.ts >= previous.ts:
                latest[sample.tag] = sample

    def _station_changed(self, status: StationStatus) -> None:
        self.stations[status.station] = status

    async def _retain(self) -> None:
        """Purge past the retention once an hour, never on a clock the data contradicts."""
        guard = RetentionGuard(timedelta(days=self.config.storage.retention_days), self.clock.speed)
        while True:
            try:
                newest = await self._newest_stored()
                skews = [status.clock_skew_s for status in self.stations.values()]
                verdict = guard.judge(self.clock.now(), newest, skews)
                if bool(verdict.refusal) != bool(self.retention_held):  # said once per change
                    if verdict.refusal:
                        _LOGGER.error("retention: purge refused: %s; raised as an alarm, retried hourly",
                                      verdict.refusal)  # fmt: skip
                    else:
                        _LOGGER.warning("retention: the clock agrees with the data again; purging resumes")
                    self.alarms.supervision("retention", bool(verdict.refusal), value=verdict.ahead_h)
                self.retention_held = verdict.refusal
                if verdict.before is not None:
                    deleted = await self.historian.purge(verdict.before)
                    if deleted:
                        _LOGGER.info("retention: %d samples older than %s deleted", deleted,
                                     verdict.before.isoformat())  # fmt: skip
            except Exception:
                _LOGGER.exception("retention failed; will retry")
            await asyncio.sleep(_RETENTION_PERIOD_S)

    async def _newest_stored(self) -> datetime | None:
        """The newest good sample the historian holds, over every tag of the site."""
        stamps = [await self.historian.last_good_timestamp(tag.id) for tag in self.config.tags]
        return max((ts for ts in stamps if ts is not None), default=None)
