"""Live acquisition from dam stations over OPC-UA: the only module that imports asyncua.

One :class:`StationLink` per station owns its client and runs forever: connect, subscribe,
stream samples to the bus, and on any loss publish bad quality for the station's tags, wait a
capped exponential backoff, reconnect, and backfill the gap with HistoryRead.

Choices that matter for not losing data:
- Monitored items get a queue deep enough for every sampling interval within one publishing
  interval (asyncua's default queue of 1 silently keeps only the newest change).
- The subscription is read in asyncua's iterator mode with a deep queue; if the consumer ever
  falls that far behind, asyncua's ``DISCONNECT`` overflow policy forces a reconnection, whose
  backfill recovers what was dropped instead of losing it silently.
- Backfilled samples go to their own topic: the historian stores them, live views and alarm
  rules never see an old value as if it were new. The historian ignores a (tag, ts) it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from asyncua import Client, Node, ua
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.ua.uaerrors import UaError

from core.bus import BACKFILL, SAMPLES, STATION_STATUS, Bus
from core.config.schema import SecurityMode, Station, Tag, TagKind
from core.config.secrets import resolve
from core.model import ConnectionState, Quality, Sample, StationStatus, as_utc, utcnow

_LOGGER = logging.getLogger(__name__)

BAD_NO_COMMUNICATION = 0x80310000
BAD_TYPE_MISMATCH = 0x80740000
BAD_NODE_ID_UNKNOWN = 0x80340000
_INITIAL_BACKOFF_S = 0.5
_EVENT_QUEUE = 200_000
_HANDLE_BASE = 1_000_000  # above asyncua's own client handles
CLIENT_URI = "urn:ecreteur:client"  # must match the client certificate

LastTimestamp = Callable[[str], Awaitable[datetime | None]]


@dataclass(frozen=True, slots=True)
class _Monitored:
    tag: Tag
    node: Node


class StationLink:
    """Acquisition from one station, with reconnection and backfill. Runs in the event loop."""

    def __init__(
        self,
        station: Station,
        tags: Sequence[Tag],
        bus: Bus,
        *,
        last_timestamp: LastTimestamp | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.station = station
        self.tags = list(tags)
        self.bus = bus
        self.state = ConnectionState.DISCONNECTED
        self.detail = ""
        self.received = 0
        self.backfilled = 0
        self.connections = 0
        self._last_timestamp = last_timestamp
        self._base_dir = base_dir or Path.cwd()
        self._last_seen: dict[str, datetime] = {}
        self._complete: dict[str, datetime] = {}  # per tag: the historian holds everything up to here
        self._synced: set[str] = set()  # tags whose gap was backfilled in this session
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._warned: set[str] = set()
        self._pending: list[Sample] = []
        self._flush_scheduled = False

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the link in the background (``async_`` style: call from the event loop)."""
        self._task = asyncio.create_task(self.run(), name=f"station-{self.station.id}")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        self._set_state(ConnectionState.STOPPED, "stopped")

    async def run(self) -> None:
        backoff = _INITIAL_BACKOFF_S
        while not self._stop.is_set():
            self._set_state(ConnectionState.CONNECTING, self.station.endpoint)
            connected_before = self.connections
            try:
                await self._session()
                detail = "connection lost"
            except (OSError, TimeoutError, UaError, ConnectionError) as err:
                detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            except Exception as err:  # a station must never take the process down
                _LOGGER.exception("station %s: unexpected error", self.station.id)
                detail = f"{type(err).__name__}: {err}"
            if self._stop.is_set():
                break
            if self.connections > connected_before:
                backoff = _INITIAL_BACKOFF_S
                self._mark_lost()
            self._set_state(ConnectionState.DISCONNECTED, detail)
            _LOGGER.warning(
                "station %s (%s): %s; retrying in %.1f s",
                self.station.id,
                self.station.endpoint,
                detail,
                backoff,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, self.station.reconnect_max_delay_s)

    # -- one connected session ------------------------------------------------------------

    async def _session(self) -> None:
        client = await self._client()
        lost = asyncio.Event()

        async def on_lost(_exc: Exception) -> None:
            lost.set()

        client.connection_lost_callback = on_lost
        try:
            await asyncio.wait_for(client.connect(auto_reconnect=False), self.station.timeout_s * 2)
            monitored = await self._resolve(client)
            if not monitored:
                raise UaError("none of the configured tags exists on the station")
            subscription = await client.create_subscription(
                self.station.publishing_interval_ms,
                None,
                queue_maxsize=_EVENT_QUEUE,
                overflow=OverflowPolicy.DISCONNECT,
            )
            self._synced = set() if self.station.backfill else {item.tag.id for item in monitored}
            gaps = await self._gap_starts(monitored) if self.station.backfill else {}
            handles = await self._subscribe(subscription, monitored)
            self.connections += 1
            consumer = asyncio.create_task(self._consume(subscription, handles))
            self._set_state(ConnectionState.CONNECTED, self.station.endpoint)
            if self.station.backfill:
                await self._backfill(monitored, gaps)
            stop = asyncio.create_task(self._stop.wait())
            gone = asyncio.create_task(lost.wait())
            await asyncio.wait({consumer, stop, gone}, return_when=asyncio.FIRST_COMPLETED)
            for task in (consumer, stop, gone):
                task.cancel()
            await asyncio.gather(consumer, stop, gone, return_exceptions=True)
            self._flush()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 2)

    async def _client(self) -> Client:
        station = self.station
        client = Client(station.endpoint, timeout=station.timeout_s)
        client.name = client.description = f"Ecreteur ({station.id})"
        client.application_uri = CLIENT_URI
        if station.user:
            client.set_user(station.user)
        if station.password is not None:
            client.set_password(resolve(station.password))
        security = station.security
        if security.mode is not SecurityMode.NONE:
            assert security.certificate and security.private_key  # checked by the config loader
            mode = getattr(ua.MessageSecurityMode, security.mode.value)
            await client.set_security(
                SecurityPolicyBasic256Sha256,
                str(self._path(security.certificate)),
                str(self._path(security.private_key)),
                server_certificate=(
                    str(self._path(security.server_certificate)) if security.server_certificate else None
                ),
                mode=mode,
            )
        return client

    def _path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self._base_dir / path

    async def _resolve(self, client: Client) -> list[_Monitored]:
        """Find each tag's node; a missing one is reported and marked bad, the others go on."""
        found: list[_Monitored] = []
        candidates: list[_Monitored] = []
        for tag in self.tags:
            try:
                if tag.node is not None:
                    node = client.get_node(tag.node)
                else:
                    assert tag.browse_path is not None
                    node = await client.nodes.root.get_child(tag.browse_path.strip("/").split("/"))
            except (UaError, ValueError) as err:
                self._report(tag, f"{tag.browse_path or tag.node} not found on the station ({err})")
                continue
            candidates.append(_Monitored(tag, node))
        if candidates:
            values = await client.read_attributes([m.node for m in candidates], ua.AttributeIds.Value)
            for item, result in zip(candidates, values, strict=True):
                status = result.StatusCode
                if (
                    status is not None
                    and not status.is_good()
                    and status.value
                    in (
                        ua.StatusCodes.BadNodeIdUnknown,
                        ua.StatusCodes.BadNodeIdInvalid,
                        ua.StatusCodes.BadAttributeIdInvalid,
                    )
                ):
                    self._report(
                        item.tag, f"node {item.node.nodeid.to_string()} does not exist on the station"
                    )
                    continue
                found.append(item)
        return found

    def _report(self, tag: Tag, message: str) -> None:
        _LOGGER.error("station %s, tag %s: %s", self.station.id, tag.id, message)
        self.bus.publish(
            SAMPLES, (Sample(tag.id, utcnow(), math.nan, Quality.BAD, status=BAD_NODE_ID_UNKNOWN),)
        )

    async def _subscribe(self, subscription: Any, monitored: list[_Monitored]) -> dict[int, Tag]:
        """Monitor every node with our own client handles and a no-loss queue size."""
        publishing = self.station.publishing_interval_ms
        handles: dict[int, Tag] = {}
        requests = []
        for index, item in enumerate(monitored):
            sampling = item.tag.sampling_ms
            per_publish = publishing / sampling if sampling > 0 else 100
            parameters = ua.MonitoringParameters(
                ClientHandle=_HANDLE_BASE + index,
                SamplingInterval=float(sampling),
                QueueSize=max(10, min(10_000, math.ceil(per_publish * 4))),
                DiscardOldest=True,
            )
            requests.append(
                ua.MonitoredItemCreateRequest(
                    ItemToMonitor=ua.ReadValueId(NodeId=item.node.nodeid, AttributeId=ua.AttributeIds.Value),
                    MonitoringMode=ua.MonitoringMode.Reporting,
                    RequestedParameters=parameters,
                )
            )
        results = await subscription.create_monitored_items(requests)
        for index, (item, result) in enumerate(zip(monitored, results, strict=True)):
            if isinstance(result, ua.StatusCode):
                self._report(item.tag, f"cannot monitor {item.node.nodeid.to_string()}: {result.name}")
            else:
                handles[_HANDLE_BASE + index] = item.tag
        return handles

    # -- streaming ------------------------------------------------------------------------

    async def _consume(self, subscription: Any, handles: dict[int, Tag]) -> None:
        """Turn data changes into samples; batches are published once the queue runs dry."""
        loop = asyncio.get_running_loop()
        async for event in subscription:
            if not isinstance(event, DataChangeEvent):
                continue
            item = event.data.monitored_item
            tag = handles.get(item.ClientHandle)
            if tag is None:
                continue
            sample = self._sample(tag, item.Value)
            self._pending.append(sample)
            self._last_seen[tag.id] = sample.ts
            if tag.id in self._synced:
                self._complete[tag.id] = sample.ts
            if not self._flush_scheduled:
                self._flush_scheduled = True
                loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._pending:
            batch, self._pending = self._pending, []
            self.received += len(batch)
            self.bus.publish(SAMPLES, batch)

    def _sample(self, tag: Tag, dv: ua.DataValue) -> Sample:
        status = dv.StatusCode.value if dv.StatusCode is not None else 0
        ts = dv.SourceTimestamp or dv.ServerTimestamp
        when = as_utc(ts) if ts is not None else utcnow()
        server_ts = as_utc(dv.ServerTimestamp) if dv.ServerTimestamp is not None else None
        raw = dv.Value.Value if dv.Value is not None else None
        value = self._number(tag, raw)
        if value is None:
            return Sample(tag.id, when, math.nan, Quality.BAD, server_ts, BAD_TYPE_MISMATCH)
        return Sample(tag.id, when, value, Quality.from_status_code(status), server_ts, status)

    def _number(self, tag: Tag, raw: Any) -> float | None:
        if isinstance(raw, bool):
            return 1.0 if raw else 0.0
        if isinstance(raw, int | float):
            return float(raw)
        if tag.id not in self._warned:
            self._warned.add(tag.id)
            expected = "a boolean" if tag.kind is TagKind.DISCRETE else "a number"
            _LOGGER.error(
                "station %s, tag %s: the station sent %s %r where %s is expected; stored as bad quality",
                self.station.id, tag.id, type(raw).__name__, raw, expected,
            )  # fmt: skip
        return None

    # -- gaps -----------------------------------------------------------------------------

    async def _gap_starts(self, monitored: list[_Monitored]) -> dict[str, datetime | None]:
        """Where each tag's gap begins, read before live samples start to fill the historian."""
        starts: dict[str, datetime | None] = {}
        for item in monitored:
            tag = item.tag.id
            starts[tag] = self._complete.get(tag) or (
                await self._last_timestamp(tag) if self._last_timestamp else None
            )
        return starts

    async def _backfill(self, monitored: list[_Monitored], gaps: dict[str, datetime | None]) -> None:
        """Read from the station's history what arrived while the link was down.

        A tag counts as complete only once its backfill succeeded: if the link drops again
        mid-way, the next session restarts from the same point instead of skipping the gap.
        """
        self._set_state(ConnectionState.BACKFILLING, "reading the station's history")
        end = utcnow()
        for item in monitored:
            tag = item.tag.id
            start = self._complete.get(tag) or (
                await self._last_timestamp(tag) if self._last_timestamp else None
            )
            if start is not None:
                try:
                    values = await item.node.read_raw_history(start + timedelta(microseconds=1), end)
                except UaError as err:
                    _LOGGER.info("station %s: no history for %s (%s)", self.station.id, tag, err)
                    values = []
                batch = [s for s in (self._sample(item.tag, dv) for dv in values) if s.ts > start]
                if batch:
                    self.backfilled += len(batch)
                    self.bus.publish(BACKFILL, batch)
                    start = batch[-1].ts
            seen = self._last_seen.get(tag)
            marks = [t for t in (start, seen) if t is not None]
            if marks:
                self._complete[tag] = max(marks)
            self._synced.add(tag)
        if self.state is ConnectionState.BACKFILLING:
            self._set_state(ConnectionState.CONNECTED, self.station.endpoint)

    def _mark_lost(self) -> None:
        """The station is gone: its tags' last values are no longer trustworthy."""
        now = utcnow()
        self.bus.publish(
            SAMPLES,
            [Sample(tag.id, now, math.nan, Quality.BAD, None, BAD_NO_COMMUNICATION) for tag in self.tags],
        )

    def _set_state(self, state: ConnectionState, detail: str) -> None:
        if state is self.state and detail == self.detail:
            return
        self.state, self.detail = state, detail
        self.bus.publish(STATION_STATUS, StationStatus(self.station.id, state, utcnow(), detail))


async def create_certificate(key_file: Path, cert_file: Path, application_uri: str, host: str) -> None:
    """Create a self-signed OPC-UA application certificate and key unless they already exist."""
    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key_file.parent.mkdir(parents=True, exist_ok=True)
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    await setup_self_signed_certificate(
        key_file,
        cert_file,
        application_uri,
        host,
        [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH],
        {"countryName": "FR", "organizationName": "Ecreteur", "commonName": application_uri},
    )
