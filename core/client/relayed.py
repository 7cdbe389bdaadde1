"""On a desktop client, an ``api`` station's values come from the server, which alone receives them.

A desktop reads its OPC-UA and MQTT stations itself; an api station's tags are posted to the
server's REST API, so the desktop follows them on the server's event stream (only that
station's samples and states). While the server is unreachable the station's tags are lost on
this desktop, as a dropped link's are; the server's own state of the station is shown otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.acquisition.link import SourceLink
from core.bus import Bus
from core.client.session import Session, read_stream
from core.clock import Clock
from core.config.schema import Station, Tag
from core.model import ConnectionState
from core.site.wire import sample_from_json

_RETRY_MAX_S = 3.0


class RelayedLink(SourceLink):
    """One api station's samples and states, relayed from the server's event stream."""

    def __init__(
        self, station: Station, tags: Sequence[Tag], bus: Bus, clock: Clock | None, session: Session
    ) -> None:
        super().__init__(station, tags, bus, clock)
        self.session = session
        self._tags = {tag.id for tag in tags}

    def _url(self) -> str:
        base = self.session.api.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return f"{base}/events?kinds=samples,station&stations={self.station.id}"

    async def run(self) -> None:
        delay = 0.2
        while not self.stopped:
            self.set_state(ConnectionState.CONNECTING, f"through the server {self.session.url}")

            def opened() -> None:
                nonlocal delay
                delay = 0.2

            ended = await self.until_stopped(read_stream(self.session, self._url(), self._receive, opened))
            if self.stopped:
                break
            self.mark_lost()
            self.set_state(ConnectionState.DISCONNECTED, str(ended))
            if self.session.others:
                self.session = self.session.next_server()
            await self.pause(delay)
            delay = min(delay * 2, _RETRY_MAX_S)

    def _receive(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "snapshot":
            for status in message.get("stations", ()):
                self._server_state(status)
            samples = message.get("latest", ())
        elif kind == "station":
            self._server_state(message["station"])
            return
        elif kind == "samples":
            samples = message["samples"]
        else:
            return
        for body in samples:
            if body.get("tag") in self._tags:
                self.publish(sample_from_json(body))

    def _server_state(self, status: dict[str, Any]) -> None:
        if status.get("station") == self.station.id:
            self.connections += 1 if status["state"] == "connected" else 0
            self.set_state(ConnectionState(status["state"]), f"{status['detail']} (at the server)",
                           status.get("reason", ""))  # fmt: skip
