"""HTTP connections that must send their request in time (slowloris, idle sockets).

uvicorn closes a keep-alive connection idle after a response, but its timer is reset by every
byte received: a client that trickles a header a byte at a time, or connects and says nothing,
holds a connection (and a file descriptor) for ever. Here each request must arrive whole,
headers and body, within ``deadline_s`` of its first byte (or of the connection, for the
first request); otherwise the connection is closed. The deadline ends once the request is
received, so a slow answer or a WebSocket (the event stream) is never cut.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

_LOGGER = logging.getLogger(__name__)


class DeadlineProtocol(H11Protocol):
    deadline_s = 15.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.deadline_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def data_received(self, data: bytes) -> None:
        self._arm()  # a request is on its way
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self.conn.their_state is not h11.SEND_BODY:
            self._disarm()  # received whole (or the connection is done with)

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._disarm()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        _LOGGER.warning("closing %s: no whole request within %g s", client, self.deadline_s)
        self.transport.close()


def with_deadline(seconds: float) -> type[DeadlineProtocol]:
    """The protocol class for uvicorn's ``http=`` with the site's deadline."""
    return type("SiteDeadlineProtocol", (DeadlineProtocol,), {"deadline_s": seconds})
