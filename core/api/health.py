"""The server's own state: alive (and who pages), ready (stations and historian), metrics.

No ``from __future__ import annotations`` (FastAPI reads annotations at run time).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse

from core.api import schemas as s
from core.api.auth import API, ERRORS, Access
from core.api.metrics import Metrics, prometheus_text
from core.model import ConnectionState
from core.runtime import Runtime
from core.site.stream import EventStream
from core.storage.tokens import Token


def router(runtime: Runtime, access: Access, metrics: Metrics, stream: EventStream) -> APIRouter:
    routes = APIRouter()
    need, cache = access.need, access.cache

    @routes.get(f"{API}/health", response_model=s.Health, response_model_exclude_none=True)
    async def health() -> Any:
        lease, historian = runtime.lease, runtime.history.failing or "stores"
        if lease is None:
            return s.Health(status="alive", historian=historian)
        if lease.fail_open:
            pager = "every server"
        elif lease.leading():
            pager = "this server"
        else:
            pager = "another server" if lease.leader else "none"
        return s.Health(status="alive", pager=pager, leader=lease.leader, historian=historian)

    @routes.get(f"{API}/ready", response_model=s.Ready, responses={**ERRORS, 503: {"model": s.Ready}})
    async def ready(_: Annotated[Token, Depends(need("read"))]) -> Any:
        states = {sid: status.state.value for sid, status in runtime.stations.items()}
        writable = runtime.historian_writable()
        ok = writable and all(st == ConnectionState.CONNECTED.value for st in states.values())
        body = s.Ready(ready=ok, stations=states, historian_writable=writable)
        return body if ok else JSONResponse(body.model_dump(), status_code=503)

    @routes.get(
        f"{API}/metrics",
        responses={**ERRORS, 200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
        summary="Prometheus text format",
    )
    async def prometheus(_: Annotated[Token, Depends(need("read"))]) -> Any:
        text = prometheus_text(runtime, metrics) + (
            "# HELP ecreteur_token_cache_entries Valid bearer tokens kept verified (bounded).\n"
            f"# TYPE ecreteur_token_cache_entries gauge\necreteur_token_cache_entries {len(cache)}\n"
            + stream_text(stream)
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    return routes


def stream_text(stream: EventStream) -> str:
    """The event stream's memory, bounded by bytes (``api.stream_ring_mib``, ``stream_client_mib``)."""
    return (
        "# HELP ecreteur_stream_ring_bytes Events kept for clients that resume (estimated, bounded).\n"
        f"# TYPE ecreteur_stream_ring_bytes gauge\necreteur_stream_ring_bytes {stream.ring_bytes}\n"
        f"# TYPE ecreteur_stream_ring_events gauge\necreteur_stream_ring_events {stream.events}\n"
        "# HELP ecreteur_stream_queued_bytes Texts waiting for the clients' sockets, all clients.\n"
        f"# TYPE ecreteur_stream_queued_bytes gauge\necreteur_stream_queued_bytes {stream.queued_bytes}\n"
        f"# TYPE ecreteur_stream_clients gauge\necreteur_stream_clients {stream.clients}\n"
        "# HELP ecreteur_stream_dropped_total Clients closed with 1013: over their byte budget.\n"
        f"# TYPE ecreteur_stream_dropped_total counter\necreteur_stream_dropped_total {stream.dropped}\n"
    )
