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

Choices that matter for values that never lie:
- Timestamps live in the *station's* clock domain. The link measures the station's clock
  (its ``Server_ServerStatus_CurrentTime``) against ours; a loss marker is stamped with the
  station's "now", so a station five minutes slow is not outranked by our own marker.
- After a reconnection the station re-sends every value as current, unchanged ones with their
  original (older) source timestamp. Such a value, older than the loss marker, goes to the
  historian as it came (backfill topic) *and* is confirmed live at the station's "now": the
  live picture and the historian then agree that the value is good again, and neither keeps
  the marker as the latest word.
- A sample stamped beyond the station's own clock (a wrong RTC, a bad PLC program) is stored at
  the station's "now" instead of freezing the live value until that future instant.

Choices that matter for trust:
- A secure station's certificate is read from its endpoints (no credentials are sent for
  that) and checked against the site's trust store or the pinned file *before* the session
  is opened: an impostor never receives the password.
- Refusals (unknown certificate, policy not offered, wrong password, missing secret) need a
  person, not a retry: they back off to minutes, say what to do, and raise their own alarm.

Why one file: DESIGN's adapter rule: the only asyncua importer, so connection, security,
subscription, backfill and the station's clock, which all speak asyncua, live here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from asyncua import Client, Node, ua
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy
from asyncua.crypto import security_policies
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509

from core.acquisition.link import BAD_TYPE_MISMATCH, TICK, SourceLink, failure
from core.acquisition.plausible import judged
from core.acquisition.trust import CertificateInfo, StationRefused, TrustStore, first_certificate
from core.bus import BACKFILL, SAMPLES, Bus
from core.clock import Clock
from core.config.schema import SecurityMode, Station, Tag, TagKind
from core.config.secrets import SecretMissing, resolve
from core.model import ConnectionState, Quality, Sample, as_utc

_LOGGER = logging.getLogger(__name__)

BAD_NODE_ID_UNKNOWN = 0x80340000
_INITIAL_BACKOFF_S = 0.5
_REFUSED_BACKOFF_S = 60.0  # a refusal needs a person: retry after minutes, not seconds
_REFUSED_MAX_BACKOFF_S = 1800.0
_SKEW_PERIOD_S = 15.0
_FUTURE_TOLERANCE_S = 5.0  # a source timestamp this far beyond the station's clock is wrong
_EVENT_QUEUE = 200_000
_HANDLE_BASE = 1_000_000  # above asyncua's own client handles
CLIENT_URI = "urn:ecreteur:client"  # when the client certificate names no application URI

POLICIES: dict[str, type[security_policies.SecurityPolicy]] = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128_Sha256_RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256_Sha256_RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
_ACCESS_DENIED = (
    ua.StatusCodes.BadUserAccessDenied,
    ua.StatusCodes.BadIdentityTokenInvalid,
    ua.StatusCodes.BadIdentityTokenRejected,
    ua.StatusCodes.BadCertificateUntrusted,
    ua.StatusCodes.BadSecurityChecksFailed,
)

LastTimestamp = Callable[[str], Awaitable[datetime | None]]


class PolicyRefused(StationRefused):
    fault = "policy"


class AuthenticationFailed(StationRefused):
    fault = "authentication"


class SecretUnavailable(StationRefused):
    fault = "secret"


@dataclass(frozen=True, slots=True)
class _Monitored:
    tag: Tag
    node: Node


class StationLink(SourceLink):
    """Acquisition from one station, with reconnection and backfill. Runs in the event loop.

    A :class:`SourceLink` like every other source (its state, counters, batching and loss
    markers); what it adds is OPC-UA's: the session, the station's clock and the backfill.
    """

    def __init__(
        self,
        station: Station,
        tags: Sequence[Tag],
        bus: Bus,
        *,
        last_timestamp: LastTimestamp | None = None,
        base_dir: Path | None = None,
        trust: TrustStore | None = None,
        trust_command: str = "ecreteur trust {station}",
        clock: Clock | None = None,
    ) -> None:
        """``clock``: a time-lapse's (the demo), which the station's clock is measured against;
        by default the system's wall clock, NTP-disciplined as a station's should be (not a
        clock anchored at the start and run by the loop: a clock stepped later would then make
        every station look skewed)."""
        super().__init__(station, tags, bus, clock)
        self._last_timestamp = last_timestamp
        self._base_dir = base_dir or Path.cwd()
        self._trust = trust or TrustStore(self._base_dir / "pki")
        self._trust_command = trust_command.format(station=station.id)
        self._awaiting: set[str] = set()  # tags with no value yet in this session
        self._complete: dict[str, datetime] = {}  # per tag: the historian holds everything up to here
        self._synced: set[str] = set()  # tags whose gap was backfilled in this session
        self._holding: set[str] = set()  # tags whose live values wait for their history
        self._held: dict[str, list[Sample]] = {}

    # -- life cycle -----------------------------------------------------------------------

    async def run(self) -> None:
        backoff, refused_backoff = _INITIAL_BACKOFF_S, _REFUSED_BACKOFF_S
        while not self.stopped:
            self.set_state(ConnectionState.CONNECTING, self.endpoint, "connecting")
            connected_before = self.connections
            refused: StationRefused | None = None
            try:
                await self._session()
                detail, reason = "connection lost", "lost"
            except StationRefused as err:
                refused, detail, reason = err, str(err), "refusal"
            except (OSError, TimeoutError, UaError, ConnectionError) as err:
                detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
                reason = "protocol" if isinstance(err, UaError) else failure(err)
            except Exception as err:  # a station must never take the process down
                _LOGGER.exception("station %s: unexpected error", self.station.id)
                detail, reason = f"{type(err).__name__}: {err}", "failed"
            if self.stopped:
                break
            if self.connections > connected_before:
                backoff, refused_backoff = _INITIAL_BACKOFF_S, _REFUSED_BACKOFF_S
                self.mark_lost()
            if refused is not None:
                # nobody fixes a password or a certificate in a second: minutes between tries, so
                # that a real RTU does not lock the account; a newly trusted certificate retries now
                if refused.fault != self.fault or detail != self.detail:
                    _LOGGER.error("%s", detail)  # says the station, what is wrong and what to do
                self.fault = refused.fault
                self.retry_in = refused_backoff * random.uniform(0.9, 1.1)
                self.set_state(ConnectionState.DISCONNECTED, detail, reason)
                await self._wait_refused(self.retry_in)
                refused_backoff = min(refused_backoff * 2, _REFUSED_MAX_BACKOFF_S)
                continue
            self.fault = None
            self.retry_in = backoff * random.uniform(0.8, 1.2)
            self.set_state(ConnectionState.DISCONNECTED, detail, reason)
            _LOGGER.warning(
                "station %s (%s): %s; retrying in %.1f s",
                self.station.id,
                self.endpoint,
                detail,
                backoff,
            )
            await self.pause(self.retry_in)
            backoff = min(backoff * 2, self.station.reconnect_max_delay_s)

    async def _wait_refused(self, delay: float) -> None:
        """Wait ``delay``, or less when an administrator changes the trust store."""
        loop = asyncio.get_running_loop()
        deadline, version = loop.time() + delay, self._trust.version()
        while not self.stopped and loop.time() < deadline:
            await self.pause(min(1.0, deadline - loop.time()))
            if self.fault == "certificate" and self._trust.version() != version:
                return

    # -- one connected session ------------------------------------------------------------

    async def _session(self) -> None:
        client = await self._client()
        lost = asyncio.Event()

        async def on_lost(_exc: Exception) -> None:
            lost.set()

        client.connection_lost_callback = on_lost
        try:
            try:
                await asyncio.wait_for(client.connect(auto_reconnect=False), self.station.timeout_s * 2)
            except UaStatusCodeError as err:
                if err.code in _ACCESS_DENIED:
                    who = f"user {self.station.user!r}" if self.station.user else "anonymous access"
                    raise AuthenticationFailed(
                        f"station {self.station.id} refused {who} ({type(err).__name__}); check the "
                        f"user and the password secret, retrying in minutes so the account is not locked"
                    ) from err
                raise
            await self._measure_clock(client)
            self._awaiting = {tag.id for tag in self.tags}
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
            # a tag's live values wait for its history: the alarms then see a crossing that
            # happened while we were away in the order it happened, at the station's time
            self._holding = {tag for tag, start in gaps.items() if start is not None}
            handles = await self._subscribe(subscription, monitored)
            self.connections += 1
            consumer = asyncio.create_task(self._consume(subscription, handles))
            self.set_state(ConnectionState.CONNECTED, self.endpoint, "connected")
            if self.station.backfill:
                await self._backfill(monitored, gaps)
            stop = asyncio.create_task(self._stop.wait())
            gone = asyncio.create_task(lost.wait())
            clock = asyncio.create_task(self._watch_clock(client))
            await asyncio.wait({consumer, stop, gone, clock}, return_when=asyncio.FIRST_COMPLETED)
            for task in (consumer, stop, gone, clock):
                task.cancel()
            await asyncio.gather(consumer, stop, gone, clock, return_exceptions=True)
            self._release()
            self._flush()
        finally:
            self._release()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 2)

    async def _client(self) -> Client:
        station = self.station
        client = Client(self.endpoint, timeout=station.timeout_s)
        client.name = client.description = f"Ecreteur ({station.id})"
        client.application_uri = CLIENT_URI
        if station.user:
            client.set_user(station.user)
        if station.password is not None:
            try:
                client.set_password(resolve(station.password))
            except SecretMissing as err:
                raise SecretUnavailable(f"station {station.id}: {err}") from err
        security = station.security
        if security.mode is not SecurityMode.NONE:
            assert security.certificate and security.private_key  # checked by the config loader
            certificate = self._path(security.certificate)
            client.application_uri = application_uri(certificate) or CLIENT_URI
            server = await server_certificate(station)
            pinned = self._path(security.server_certificate) if security.server_certificate else None
            self._trust.check(station.id, self.endpoint, server.der, pinned, self._trust_command)
            await client.set_security(
                POLICIES[security.policy],
                str(certificate),
                str(self._path(security.private_key)),
                server_certificate=server.der,  # the one checked: asyncua refuses any other
                mode=getattr(ua.MessageSecurityMode, security.mode.value),
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
            SAMPLES, (Sample(tag.id, self.station_now(), math.nan, Quality.BAD, status=BAD_NODE_ID_UNKNOWN),)
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
        async for event in subscription:
            if not isinstance(event, DataChangeEvent):
                continue
            item = event.data.monitored_item
            tag = handles.get(item.ClientHandle)
            if tag is None:
                continue
            sample = self._sample(tag, item.Value)
            if tag.id in self._awaiting:
                sample = self._first_of_session(sample)
            if tag.id in self._holding:
                self._held.setdefault(tag.id, []).append(sample)
                continue
            self._pending.append(sample)
            self._last_seen[tag.id] = sample.ts
            if tag.id in self._synced:
                self._complete[tag.id] = sample.ts
            self._schedule_flush()

    def _first_of_session(self, sample: Sample) -> Sample:
        """The station's current value after a (re)connection outranks our loss marker.

        An unchanged value comes back with its original source timestamp, older than the marker:
        it is stored as it came and confirmed live at the station's "now".
        """
        self._awaiting.discard(sample.tag)
        lost = self._lost_at.pop(sample.tag, None)
        if lost is None or sample.ts > lost:
            return sample
        self.bus.publish(BACKFILL, (sample,))
        return replace(sample, ts=max(lost + TICK, self.station_now()))

    def _sample(self, tag: Tag, dv: ua.DataValue) -> Sample:
        status = dv.StatusCode.value if dv.StatusCode is not None else 0
        ts = dv.SourceTimestamp or dv.ServerTimestamp
        now = self.station_now()
        when = as_utc(ts) if ts is not None else now
        if (when - now).total_seconds() > _FUTURE_TOLERANCE_S * self.clock.speed:  # real seconds
            self._restamp_warning(tag, when, now)
            when = now
        server_ts = as_utc(dv.ServerTimestamp) if dv.ServerTimestamp is not None else None
        raw = dv.Value.Value if dv.Value is not None else None
        value = self._number(tag, raw)
        if value is None:
            return Sample(tag.id, when, math.nan, Quality.BAD, server_ts, BAD_TYPE_MISMATCH)
        sample = Sample(tag.id, when, value, Quality.from_status_code(status), server_ts, status)
        return judged(sample, self._bounds.get(tag.id))  # out of range: uncertain; impossible: bad

    def _restamp_warning(self, tag: Tag, stamped: datetime, now: datetime) -> None:
        self.restamped += 1
        key = f"future:{tag.id}"
        if key not in self._warned:
            self._warned.add(key)
            _LOGGER.warning(
                "station %s, tag %s: sample stamped %s, %.0f s beyond the station's own clock; "
                "stored at the station's time instead (further ones are counted, not logged)",
                self.station.id, tag.id, stamped.isoformat(), (stamped - now).total_seconds(),
            )  # fmt: skip

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
        self.set_state(ConnectionState.BACKFILLING, "reading the station's history", "backfilling")
        # generous end: the skew estimate is coarse (a CurrentTime updated once a second), and
        # reading past the last logged value costs nothing (the historian ignores a (tag, ts) twice)
        end = max(self.clock.now(), self.station_now()) + timedelta(seconds=60)
        for item in monitored:
            tag = item.tag.id
            start = gaps.get(tag)  # read before live samples began to fill the historian
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
            self._release(tag)
            seen = self._last_seen.get(tag)
            marks = [t for t in (start, seen) if t is not None]
            if marks:
                self._complete[tag] = max(marks)
            self._synced.add(tag)
        if self.state is ConnectionState.BACKFILLING:
            self.set_state(ConnectionState.CONNECTED, self.endpoint, "connected")

    def _release(self, tag: str | None = None) -> None:
        """Hand over the live values held back while ``tag``'s history was read (every tag's
        when None: the session ends, nothing is ever kept back for good)."""
        for one in [tag] if tag is not None else list(self._holding):
            self._holding.discard(one)
            self._pending.extend(self._held.pop(one, ()))
        if self._pending:
            self._schedule_flush()

    # -- the station's clock ----------------------------------------------------------------

    def station_now(self) -> datetime:
        """Our best estimate of the station's clock now (ours while it is unknown)."""
        return self.clock.now() + timedelta(seconds=self.clock_skew_s or 0.0)

    async def _measure_clock(self, client: Client) -> None:
        """The station's clock minus ours, from its CurrentTime read half-way through the round trip."""
        node = client.get_node(f"i={ua.ObjectIds.Server_ServerStatus_CurrentTime}")
        before = self.clock.now()
        try:
            value = await node.read_value()
        except (UaError, OSError, TimeoutError) as err:
            _LOGGER.info("station %s: cannot read its clock (%s)", self.station.id, err)
            return
        after = self.clock.now()
        if not isinstance(value, datetime):
            return
        skew = (as_utc(value) - (before + (after - before) / 2)).total_seconds()
        previous, self.clock_skew_s = self.clock_skew_s, skew
        bound = self.station.max_clock_skew_s * self.clock.speed  # a time-lapse magnifies the read's jitter
        if previous is None or abs(skew - previous) >= 1.0 or (abs(skew) > bound) != (abs(previous) > bound):
            if abs(skew) > bound:
                _LOGGER.warning("station %s: its clock is %+.0f s off ours", self.station.id, skew)
            self.publish_status()

    async def _watch_clock(self, client: Client) -> None:
        while True:
            await asyncio.sleep(_SKEW_PERIOD_S)
            await self._measure_clock(client)


async def server_certificate(station: Station) -> CertificateInfo:
    """The certificate ``station`` presents for its configured security mode and policy.

    Read from GetEndpoints over an unsecured channel, which carries no credentials; raises
    :class:`PolicyRefused` naming what the station offers when the pair is not among them.
    """
    security = station.security
    probe = Client(station.endpoint or "", timeout=station.timeout_s)
    endpoints = await asyncio.wait_for(probe.connect_and_get_server_endpoints(), station.timeout_s * 2)
    mode = getattr(ua.MessageSecurityMode, security.mode.value)
    uri = POLICIES[security.policy].URI
    for endpoint in endpoints:
        if endpoint.SecurityMode == mode and endpoint.SecurityPolicyUri == uri:
            if not endpoint.ServerCertificate:
                raise PolicyRefused(f"station {station.id}: {security.policy} has no certificate")
            return CertificateInfo.parse(first_certificate(endpoint.ServerCertificate))
    offered = sorted({f"{e.SecurityPolicyUri.rsplit('#', 1)[-1]}/{e.SecurityMode.name}" for e in endpoints})
    raise PolicyRefused(
        f"station {station.id} does not offer {security.policy} with {security.mode.value} "
        f"(it offers {', '.join(offered)}); change security.policy or security.mode"
    )


def application_uri(certificate: Path) -> str | None:
    """The application URI a client certificate names (the client must present the same)."""
    try:
        data = certificate.read_bytes()
        cert = (
            x509.load_pem_x509_certificate(data)
            if data.lstrip().startswith(b"-----BEGIN")
            else x509.load_der_x509_certificate(data)
        )
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return None
    uris = names.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def create_certificate(
    key_file: Path, cert_file: Path, application_uri: str, host: str, days: int = 3650
) -> None:
    """Create a self-signed OPC-UA application certificate and its key (mode 0600).

    The certificate names ``application_uri`` (the client presents the same one) and ``host``;
    the key is created readable by its owner only, never world-readable even for an instant.
    """
    import ipaddress

    from asyncua.crypto import cert_gen
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = cert_gen.generate_private_key()
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(application_uri), x509.DNSName(host)]
    with contextlib.suppress(ValueError):
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    cert = cert_gen.generate_self_signed_app_certificate(
        key,
        application_uri,
        {"countryName": "FR", "organizationName": "Ecreteur"},
        names,
        extended=[ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH],
        days=days,
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.unlink(missing_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:  # PEM if named .pem, DER otherwise (as asyncua reads it)
        pem = key_file.suffix.lower() == ".pem"
        out.write(
            cert_gen.dump_private_key_as_pem(key)
            if pem
            else key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        )
    encoding = Encoding.PEM if cert_file.suffix.lower() == ".pem" else Encoding.DER
    cert_file.write_bytes(cert.public_bytes(encoding))
