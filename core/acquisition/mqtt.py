"""Acquisition from an MQTT broker: the only module that imports aiomqtt (and paho beneath it).

One :class:`MqttLink` per ``source: mqtt`` station subscribes to its tags' topics and turns each
message into a sample. Choices that matter for not losing data:

- QoS 1 and a persistent session (``clean_session: false`` under a stable client id): while the
  link is down, or this process restarts, the broker keeps the station's messages and delivers
  them on reconnection. A QoS 1 duplicate carries the same measure time (``time:`` in the tag's
  mapping) and is stored once, since the historian ignores a (tag, ts) it holds.
- A message older than the loss marker of its tag (the broker's queue after an outage) goes to
  the historian only, as an OPC-UA backfill does: alarms and live views never take it as new.
- A payload that cannot be read or stored (a 401-digit number, a time before 1970 or older than
  the retention, anything the link did not foresee) is counted (``/metrics``) and the first of
  each kind logged with the station, the topic and the tag; the message is acknowledged, so it is
  never redelivered and the next one is taken: one poison message must not stop a station.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import socket
import ssl
import struct
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
from paho.mqtt.enums import MQTTErrorCode  # paho-mqtt 2.x: aiomqtt's client underneath

from core.acquisition.link import SourceLink, failure
from core.acquisition.mqtt_payload import Mapping, Unreadable, shown
from core.acquisition.plausible import EARLIEST, LATEST
from core.bus import BACKFILL, SAMPLES, Bus, Stored
from core.clock import Clock
from core.config.schema import Station, Tag
from core.config.secrets import SecretMissing, resolve
from core.model import ConnectionState, Quality, Sample

_LOGGER = logging.getLogger(__name__)
_INITIAL_BACKOFF_S = 0.5
_REFUSED_BACKOFF_S = 60.0  # a wrong password needs a person: minutes between tries
_REFUSED_MAX_BACKOFF_S = 1800.0
_REFUSED = {4, 5, 134, 135}  # MQTT 3.1.1 CONNACK 4/5, MQTT 5 reason codes 134/135
_FUTURE_TOLERANCE_S = 5.0  # as for OPC-UA: a time this far ahead of ours is a wrong clock


def client_id(station: Station, install: str) -> str:
    """A persistent session's name: stable across restarts, distinct for each installation."""
    if station.mqtt.client_id is not None:
        return station.mqtt.client_id
    digest = hashlib.sha256(install.encode()).hexdigest()[:8]
    return f"ecreteur-{socket.gethostname()}-{station.id}-{digest}"


class MqttLink(SourceLink):
    """Subscribes to one station's topics at its broker, reconnecting with a capped backoff."""

    batch_window_s = 0.005  # paho hands over one message per loop turn (docs/PERFORMANCE.md)

    def __init__(
        self,
        station: Station,
        tags: Sequence[Tag],
        bus: Bus,
        clock: Clock | None = None,
        *,
        install: str = "",
        base_dir: Any = None,
        persistent: bool = True,
    ) -> None:
        """``persistent``: the broker keeps our messages while we are away (a server, a desktop
        on its own); a desktop client of a server asks for none (the server stores them)."""
        super().__init__(station, tags, bus, clock)
        self.client_id = client_id(station, install)
        self.persistent = persistent
        self._base_dir = base_dir
        self._by_topic: dict[str, list[Mapping]] = {}
        self._heard = 0.0  # the loop's time of the last message
        self._paho: Any = None
        self._unacked: list[tuple[int, int]] = []  # QoS 1 and 2 messages (id, QoS) not acknowledged yet
        self._storing: asyncio.Future[None] | None = None  # the last batch handed to the historian
        for tag in self.tags:
            if tag.mqtt is not None:
                self._by_topic.setdefault(tag.mqtt.topic, []).append(Mapping(tag))

    async def run(self) -> None:
        backoff, refused_backoff = _INITIAL_BACKOFF_S, _REFUSED_BACKOFF_S
        while not self.stopped:
            self.set_state(ConnectionState.CONNECTING, self.endpoint, "connecting")
            connected_before, refused = self.connections, False
            try:
                await self._session()
                detail, reason = "connection lost", "lost"
            except SecretMissing as err:
                refused, detail, self.fault = True, f"station {self.station.id}: {err}", "secret"
                reason = "refusal"
            except aiomqtt.MqttCodeError as err:
                code = getattr(err.rc, "value", err.rc)
                refused = code in _REFUSED
                self.fault = "authentication" if refused else None
                detail, reason = f"the broker refused the session: {err}", "refusal" if refused else "broker"
            except (aiomqtt.MqttError, OSError, TimeoutError) as err:
                detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
                reason = failure(err) if isinstance(err, OSError | TimeoutError) else "broker"
            if self.stopped:
                break
            if self.connections > connected_before:
                backoff, refused_backoff = _INITIAL_BACKOFF_S, _REFUSED_BACKOFF_S
                self.mark_lost()
            if refused:
                if detail != self.detail:
                    _LOGGER.error("station %s (%s): %s", self.station.id, self.endpoint, detail)
                self.retry_in = refused_backoff * random.uniform(0.9, 1.1)
                refused_backoff = min(refused_backoff * 2, _REFUSED_MAX_BACKOFF_S)
            else:
                self.fault = None
                self.retry_in = backoff * random.uniform(0.8, 1.2)
                backoff = min(backoff * 2, self.station.reconnect_max_delay_s)
                _LOGGER.warning(
                    "station %s (%s): %s; retrying in %.1f s",
                    self.station.id, self.endpoint, detail, self.retry_in,
                )  # fmt: skip
            self.set_state(ConnectionState.DISCONNECTED, detail, reason)
            await self.pause(self.retry_in)

    async def _session(self) -> None:
        url = urlsplit(self.endpoint)
        tls = url.scheme == "mqtts"
        password = resolve(self.station.password) if self.station.password is not None else None
        context = None
        if tls:
            ca = self.station.mqtt.ca_file
            cafile = str(self._base_dir / ca) if ca and self._base_dir else ca  # relative to the config
            context = ssl.create_default_context(cafile=cafile)
        client = aiomqtt.Client(
            url.hostname or "localhost",
            url.port or (8883 if tls else 1883),
            username=self.station.user,
            password=password,
            identifier=self.client_id,
            clean_session=not self.persistent,  # persistent: the broker keeps our messages while we are away
            keepalive=self.station.mqtt.keepalive_s,
            timeout=self.station.timeout_s,
            tls_context=context,
            logger=_LOGGER,
        )
        try:
            await self._subscribed(client)
        finally:
            dispose(client)

    async def _subscribed(self, client: aiomqtt.Client) -> None:
        # aiomqtt exposes neither paho's manual acknowledgements nor its message callback: the
        # link reaches paho inside it (aiomqtt 2.x; test_sources fails if that ever changes)
        paho = self._paho = client._client
        held: list[Any] = []  # a persistent session's messages may come before we subscribed again
        paho.manual_ack_set(True)
        paho.on_message = lambda _client, _userdata, message: held.append(message)
        read_in_bursts(paho)
        self._unacked, self._storing = [], None  # a new session: the broker resends what was not acked
        async with client:
            self.connections += 1
            for topic in self._by_topic:
                await client.subscribe(topic, qos=self.station.mqtt.qos)
            self.set_state(ConnectionState.CONNECTED, self.endpoint, "connected")
            self._heard = asyncio.get_running_loop().time()
            await self.until_stopped(self._read(client, held), self._watch())  # MqttError: broker lost

    async def _read(self, client: aiomqtt.Client, held: list[Any]) -> None:
        """Take each message in paho's own callback, as paho reads it, until the broker is lost.

        aiomqtt's iterator costs a task and a wait on two futures for every message, and a loop turn
        more before the message is read: more than the rest of the link (docs/PERFORMANCE.md).
        paho calls ``on_message`` from aiomqtt's reader callback, on this event loop.
        """
        loop = asyncio.get_running_loop()

        def on_message(_client: Any, _userdata: Any, message: Any) -> None:
            self._heard = loop.time()
            self._take(message.topic, message.payload, message.mid, message.qos)

        for message in held:
            on_message(None, None, message)
        self._paho.on_message = on_message
        disconnected: asyncio.Future[None] = client._disconnected
        await asyncio.wait([disconnected])  # not the future itself: a stop must not cancel aiomqtt's
        cause = None if disconnected.cancelled() else disconnected.exception()
        raise aiomqtt.MqttError("Disconnected") from cause

    async def _watch(self) -> None:
        """The broker may answer while the station behind it is silent (a gauge out of battery):
        after ``expected_period_s`` without a message its tags are lost, as when a link drops."""
        loop, period = asyncio.get_running_loop(), self.station.expected_period_s
        while True:
            wait = self._heard + period - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            if self.state is ConnectionState.CONNECTED:
                self.mark_lost()
                silent = f"the broker answers; no value for {period:g} s"
                self.set_state(ConnectionState.DISCONNECTED, silent, "silent")
            await asyncio.sleep(period)  # still silent: look again a period later

    def _take(self, topic: str, payload: Any, mid: int, qos: int) -> None:
        if self.state is not ConnectionState.CONNECTED:
            self.set_state(ConnectionState.CONNECTED, self.endpoint, "connected")  # the station speaks again
        for mapping in self._by_topic.get(topic, ()):
            try:
                sample = self._sample(mapping, topic, payload)
            except Exception as err:
                # It would be redelivered at every restart and stop the station for good: counted,
                # logged once, and acknowledged below like any other message that cannot be stored
                where = f"topic {topic} (tag {mapping.tag.id})"
                self.reject(f"poison:{mapping.tag.id}", f"{where}: cannot take {shown(payload)}: "
                            f"{type(err).__name__}: {err}")  # fmt: skip
                continue
            if sample is not None:
                self.publish(sample)
        if qos:
            self._unacked.append((mid, qos))  # acknowledged once stored
            self._schedule_flush()

    def hand_over(self, live: list[Sample], late: list[Sample]) -> None:
        """Store the batch, then acknowledge its messages: the broker forgets a message only once
        the historian holds it, so a server killed in between gets it again from its session.
        Acknowledgements go in the order the messages came, as MQTT requires."""
        acks, self._unacked = self._unacked, []
        paho = self._paho  # this session's: a later session's message ids are not these
        if self.store is None:
            super().hand_over(live, late)
            _acknowledge(self.station.id, paho, acks)
            return
        if live or late:
            self._storing = self.store(late + live)
            if late:
                self.bus.publish(BACKFILL, Stored(late))
            if live:
                self.bus.publish(SAMPLES, Stored(live))
        if self._storing is None:
            _acknowledge(self.station.id, paho, acks)
        elif acks:  # after the batches before it, even when that store is already done
            self._storing.add_done_callback(lambda stored: _acknowledge(self.station.id, paho, acks, stored))

    def _sample(self, mapping: Mapping, topic: str, payload: Any) -> Sample | None:
        tag = mapping.tag
        try:
            number, ts = mapping.read(payload)
        except Unreadable as unreadable:
            self.reject(f"{unreadable.kind}:{tag.id}", f"topic {topic} (tag {tag.id}): {unreadable}")
            return None
        now = self.station_now()
        if ts is not None:
            oldest = EARLIEST if self.retention is None else max(EARLIEST, now - self.retention)
            if not oldest <= ts <= LATEST:
                # stored, it would be deleted at the next purge: refused, as the REST API does
                self.reject(f"old:{tag.id}", f"topic {topic} (tag {tag.id}): {ts.isoformat()} is older "
                            "than the retention or outside 1970–9999: not stored")  # fmt: skip
                return None
            if (ts - now).total_seconds() > _FUTURE_TOLERANCE_S * self.clock.speed:
                self._restamped(tag, ts, now)  # a gauge's wrong clock must not freeze the live value
                ts = now
        return Sample(tag.id, ts or now, number, Quality.GOOD, now)

    def _restamped(self, tag: Tag, stamped: datetime, now: datetime) -> None:
        self.restamped += 1
        if f"future:{tag.id}" not in self._warned:
            self._warned.add(f"future:{tag.id}")
            _LOGGER.warning(
                "station %s, tag %s: a value stamped %s, %.0f s ahead of our clock; stored at our time "
                "instead (further ones are counted, not logged)",
                self.station.id, tag.id, stamped.isoformat(), (stamped - now).total_seconds(),
            )  # fmt: skip


def dispose(client: aiomqtt.Client) -> None:
    """Close what a failed or ended session leaves behind in aiomqtt.

    A connection attempt that timed out leaves paho's socket open: its CONNACK may still come,
    and that client would then take the persistent session's messages and acknowledge them into a
    queue nobody reads. It is disconnected here. An unexpected disconnection's exception is left
    in a future nobody awaits: it is read, so that each outage is said once (our warning).
    """
    paho = getattr(client, "_client", None)
    if paho is not None:
        with contextlib.suppress(Exception):
            paho.disconnect()
    disconnected = getattr(client, "_disconnected", None)
    if isinstance(disconnected, asyncio.Future) and disconnected.done() and not disconnected.cancelled():
        disconnected.exception()


_BURST = 100  # packets read in one loop turn at most: a flood must not starve the other tasks


def read_in_bursts(paho: Any) -> None:
    """Let paho read every packet waiting (up to ``_BURST``) when the socket is readable.

    paho's ``loop_read`` reads one packet a call unless messages of ours are in flight, so a
    burst of a thousand queued messages costs a thousand turns of the event loop, each a
    ``epoll_wait`` and a callback: a third of the link's CPU (docs/PERFORMANCE.md). This is
    paho's own loop (paho-mqtt 2.x) with a larger bound.
    """
    packet_read, on_error = paho._packet_read, paho._loop_rc_handle

    def loop_read(max_packets: int = 1) -> Any:
        for _ in range(_BURST):
            if paho._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = packet_read()
            if rc > 0:
                return on_error(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                break
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    paho.loop_read = loop_read


_PUBACK = 0x40  # MQTT's PUBACK packet type
_PUBACK_PACKET = struct.Struct("!BBH")  # type, remaining length (2), message id


def _acknowledge(station: str, paho: Any, acks: list[tuple[int, int]], stored: Any = None) -> None:
    if stored is not None and (stored.cancelled() or stored.exception() is not None):
        _LOGGER.warning(
            "station %s: %d messages not stored, left unacknowledged: the broker sends them again in "
            "the next session", station, len(acks),
        )  # fmt: skip
        return
    if paho is None:
        return
    queue = getattr(paho, "_packet_queue", None)
    pubacks = [mid for mid, qos in acks if qos == 1]
    if queue is not None and len(pubacks) > 1:
        # One write for the batch's PUBACKs: paho's ack() queues each alone, wakes its socket pair
        # and registers the socket with the loop again, 120 µs a message here (PERFORMANCE.md).
        # The bytes are exactly paho's own (paho 2.x: _send_command_with_mid), in order.
        queue(_PUBACK, b"".join(_PUBACK_PACKET.pack(_PUBACK, 2, mid) for mid in pubacks), 0, 1)
        acks = [(mid, qos) for mid, qos in acks if qos != 1]
    for mid, qos in acks:
        paho.ack(mid, qos)
