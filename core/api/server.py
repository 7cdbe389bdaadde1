"""``ecreteur server``: acquisition, alarms, historian and the REST API in one asyncio process.

Stops gracefully on SIGTERM or SIGINT: the API stops accepting and finishes the requests in
flight (every acknowledged sample is already durable), then acquisition stops and the historian
and the alarm journal are flushed before the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import uvicorn

from core.api.app import create_app
from core.api.deadline import with_deadline
from core.clock import Clock
from core.config.schema import SiteConfig
from core.config.secrets import resolve
from core.notify.links import IncidentLinks, link_key
from core.runtime import Runtime
from core.storage.paths import StatePaths
from core.storage.select import build_credentials
from core.storage.tokens import TokenStore
from core.storage.users import UserStore

_LOGGER = logging.getLogger(__name__)
_WS_FRAME_BYTES = 4096  # a stream client sends nothing but small control frames: bigger ones get 1009
_DRAIN_S = 1.0  # between SIGTERM and closing the listener: clients are told, not reset


class _Server(uvicorn.Server):
    """uvicorn re-raises the signal after its own shutdown, which would kill the process
    before the historian is flushed: signals are handled by ``serve`` instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def token_store(config: SiteConfig, data_dir: Path) -> TokenStore:
    """Tokens live beside the historian, in the server's state directory (shared on Cassandra)."""
    return build_credentials(config.storage, data_dir)[0]


def user_store(config: SiteConfig, data_dir: Path) -> UserStore:
    """Operator accounts live beside the tokens (shared on Cassandra)."""
    return build_credentials(config.storage, data_dir)[1]


def incident_links(config: SiteConfig, data_dir: Path) -> IncidentLinks | None:
    """The links in pages to their incident, when ``api.links`` says where the pages are."""
    settings = config.api.links
    if settings is None:
        return None
    key = (
        resolve(settings.secret).encode()
        if settings.secret is not None
        else link_key(StatePaths(config.storage, data_dir).link_key)
    )
    return IncidentLinks(key, settings.public_url, timedelta(minutes=settings.valid_min))


async def serve(
    config: SiteConfig,
    config_path: Path,
    data_dir: Path,
    clock: Clock | None = None,
    phone: Path | None = None,
) -> None:
    """Serve the site until SIGINT/SIGTERM; ``clock``: a time-lapse's (``--simulation``);
    ``phone``: the demo's mailbox, shown as its simulated phone."""
    runtime = Runtime(config, config_path=config_path, data_dir=data_dir, clock=clock)
    await runtime.start()
    # Everything built so far lives as long as the process: keep it out of the cyclic GC's full
    # collections, which otherwise scan it again and again and stall requests for tens of ms.
    gc.collect()
    gc.freeze()
    api = config.api
    base = config_path.parent

    def resolve(value: str) -> str:
        return str(Path(value) if Path(value).is_absolute() else base / value)

    links = incident_links(config, data_dir)
    if runtime.cascade is not None:
        runtime.cascade.links = links
    tokens, users = build_credentials(config.storage, data_dir)
    app = create_app(runtime, tokens, users, links, phone)
    server = _Server(
        uvicorn.Config(
            app,
            host=api.host,
            port=api.port,
            log_config=None,
            access_log=False,
            lifespan="off",
            ssl_certfile=resolve(api.tls.certificate) if api.tls else None,
            ssl_keyfile=resolve(api.tls.private_key) if api.tls else None,
            timeout_graceful_shutdown=10,
            http=with_deadline(api.request_deadline_s),
            # X-Forwarded-For is believed from the configured proxies only: from anyone else it
            # would forge the address the throttle counts and the audit trail records
            ws_max_size=_WS_FRAME_BYTES,
            proxy_headers=bool(api.trusted_proxies),
            forwarded_allow_ips=list(api.trusted_proxies),
        )
    )
    loop = asyncio.get_running_loop()

    def stop(name: str) -> None:
        _LOGGER.info("%s received: stopping", name)
        app.state.stopping = True  # new requests hear 503 and Retry-After, not a reset
        loop.call_later(_DRAIN_S, setattr, server, "should_exit", True)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, sig.name)
    scheme = "https" if api.tls else "http"
    _LOGGER.info("serving %s on %s://%s:%d/api/v1", config.site.name, scheme, api.host, api.port)
    try:
        await server.serve()
    finally:
        await runtime.stop()
        tokens.close()
        users.close()
        _LOGGER.info("stopped: historian and alarm journal flushed")
