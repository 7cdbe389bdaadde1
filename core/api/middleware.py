"""The API's own ASGI layers: a stopping server answers 503, an oversized body 413.

Pure ASGI (no per-request task, no framework import): they wrap the application in
``core.api.app``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


class Stopping:
    """Once the server is stopping (SIGTERM), a new request gets 503 with a reason and a
    Retry-After, and its connection is closed, rather than a reset: a client (an IoT gateway,
    a desktop) knows to retry, elsewhere or in a moment. The requests in flight finish."""

    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not getattr(self.state, "stopping", False):
            await self.app(scope, receive, send)
            return
        body = b'{"detail":"the server is stopping: retry in a few seconds"}'
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"retry-after", b"5"), (b"connection", b"close")]  # fmt: skip
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies above ``limit`` bytes with 413 and a JSON reason, before anything reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(send)
            return
        received = 0

        async def counting() -> Any:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting if length is None else receive, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = b'{"detail":"request body too large (limit %d bytes)"}' % self.limit
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
