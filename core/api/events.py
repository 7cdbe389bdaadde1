"""The live event stream (``GET /api/v1/events``, a WebSocket): samples, station states and alarm
transitions, numbered so that a client resumes where it left off (``core.site.stream``).

No ``from __future__ import annotations`` (FastAPI reads annotations at run time).
"""

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from core.api.auth import API, Access, bearer_secret
from core.api.cookies import SESSION_COOKIE, cross_site
from core.runtime import Runtime
from core.site.stream import MIB, EventStream, Filter, Subscriber
from core.site.wire import alarm_json, sample_json, station_json

BEARER_PROTOCOL = "ecreteur.bearer"  # a browser's bearer token rides in Sec-WebSocket-Protocol
_CLOSE_S = 30.0


def router(runtime: Runtime, access: Access) -> tuple[APIRouter, EventStream]:
    routes = APIRouter()
    config, resolve, tls = runtime.config, access.resolve, access.tls

    def station_of(tag_id: str) -> str | None:
        tag = config.tag(tag_id)
        return tag.station if tag else None

    def picture(wanted: Filter) -> dict[str, Any]:
        alarms = [alarm_json(v) for v in runtime.alarms.views() if wanted.keeps_station(v.station)]
        states = [station_json(st) for sid, st in runtime.stations.items() if wanted.keeps_station(sid)]
        latest = [
            sample_json(x)
            for tag, x in runtime.latest.items()
            if wanted.keeps_kind("samples") and wanted.keeps_tag(tag, station_of(tag))
        ]
        return {"alarms": alarms, "stations": states, "latest": latest}

    api = config.api
    budgets = {"ring_bytes": int(api.stream_ring_mib * MIB), "client_bytes": int(api.stream_client_mib * MIB)}
    stream = EventStream(runtime.bus, runtime.alarms, station_of, picture, **budgets)

    @routes.websocket(f"{API}/events")
    async def events(
        websocket: WebSocket,
        epoch: str | None = None,
        since: int | None = None,
        stations: str = "",
        tags: str = "",
        kinds: str = "",
        access_token: str | None = None,
    ) -> None:
        """Sample batches, station states and alarm transitions, numbered (see core.site.stream).

        The bearer token comes in the Authorization header; a browser, which cannot set it,
        offers the subprotocols ``ecreteur.bearer`` and the token (or signs in: its session
        cookie is taken from our own pages only). ``access_token`` is accepted too, but an
        address ends up in logs. Resume with ``epoch`` and ``since``.
        """
        secret = bearer_secret(websocket.headers.get("authorization", "")) or access_token
        offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
        subprotocol = BEARER_PROTOCOL if BEARER_PROTOCOL in offered else None
        if secret is None and subprotocol is not None:  # a browser's bearer, kept out of the address
            secret = next((p for p in offered if p and p != BEARER_PROTOCOL), None)
        if secret is None and cross_site(websocket.headers, tls) is None:
            secret = websocket.cookies.get(SESSION_COOKIE)  # a page of ours, not another site's
        token = resolve(secret) if secret else None
        if token is None or not token.allows("read"):
            await websocket.close(code=4401 if token is None else 4403)
            return
        await websocket.accept(subprotocol=subprotocol)
        wanted = Filter(*(frozenset(filter(None, text.split(","))) for text in (stations, tags, kinds)))
        subscriber, first = stream.subscribe(wanted, epoch, since)
        try:
            for message in first:
                await websocket.send_text(json.dumps(message))
            reader = asyncio.create_task(_drain(websocket))
            pump = asyncio.create_task(_pump(websocket, subscriber, stream))
            await asyncio.wait({reader, pump}, return_when=asyncio.FIRST_COMPLETED)
            for task in (reader, pump):
                task.cancel()
            await asyncio.gather(reader, pump, return_exceptions=True)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            stream.unsubscribe(subscriber)

    return routes, stream


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends: it ends when the client goes."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()


async def _pump(websocket: WebSocket, subscriber: Subscriber, stream: EventStream) -> None:
    """Send the client its events; a ping when quiet; close (1013) once it is over its budget.

    The close frame waits behind what the socket already holds: a client that reads at all gets
    it; one that never reads is let go after ``_CLOSE_S`` (its socket then closes when the
    kernel has sent what it holds)."""
    while True:
        try:
            text = await asyncio.wait_for(subscriber.next(), 15.0)
        except TimeoutError:
            text = json.dumps({"type": "ping", "seq": stream.seq})
        if subscriber.dropped:
            closing = websocket.close(code=1013, reason="too slow: resume from your last seq")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closing, _CLOSE_S)
            return
        await websocket.send_text(text)
