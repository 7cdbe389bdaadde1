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
from core.storage.tokens import Token


def router(runtime: Runtime, access: Access, metrics: Metrics) -> APIRouter:
    routes = APIRouter()
    need, cache = access.need, access.cache

    @routes.get(f"{API}/health", response_model=s.Health, response_model_exclude_none=True)
    async def health() -> Any:
        lease = runtime.lease
        if lease is None:
            return s.Health(status="alive")
        if lease.fail_open:
            pager = "every server"
        elif lease.leading():
            pager = "this server"
        else:
            pager = "another server" if lease.leader else "none"
        return s.Health(status="alive", pager=pager, leader=lease.leader)

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
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    return routes
