"""Shared helpers: free loopback ports, site configs built in code, polling without sleeps-as-asserts."""

from __future__ import annotations

import asyncio
import fcntl
import inspect
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.config.schema import SiteConfig

REPO = Path(__file__).resolve().parents[1]
NPM_CACHE = Path(os.environ.get("ECRETEUR_NPM_CACHE", Path.home() / ".cache" / "ecreteur" / "npm"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    """Close the event loop that looptime's hook makes for a synchronous test.

    looptime asks the policy for the current loop before every test; in a synchronous test with
    none set, Python 3.11 creates one, and nobody closes it: it was collected unclosed in some
    later test ("unclosed event loop", the warning that once had a filter in pyproject.toml).
    The policy's own slot is read (a private attribute) because asking for the loop makes one."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        return (yield)
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    before = getattr(local, "_loop", None)
    try:
        return (yield)
    finally:
        made = getattr(local, "_loop", None)
        if made is not None and made is not before and not made.is_running():
            made.close()
            asyncio.set_event_loop(before)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def away_from_the_demo(site_text: str) -> str:
    """The demo site with its stations on ports nobody listens on: a demo running beside the
    tests (another worker's) holds 4841–4843, and its dams' values would reach this site."""
    for demo_port in (4841, 4842, 4843):
        site_text = site_text.replace(f":{demo_port}/", f":{free_port()}/")
    return site_text


@pytest.fixture
def port() -> int:
    return free_port()


# waiting for the demo's ports counts in a test's time: the tests that take them allow for it
DEMO_PORTS_TIMEOUT = pytest.mark.timeout(900)


@pytest.fixture
def demo_ports() -> Iterator[None]:
    """The demo's fixed ports (its stations on 4841–4843, its web pages on 8080) are the
    machine's: a test that runs the demo, or a desktop on the demo site, has them to itself.

    pytest-xdist runs the test files in parallel; a lock file shared by every worker (and by a
    second test run on the same machine) makes the others wait their turn."""
    path = Path(tempfile.gettempdir()) / "ecreteur-tests-demo-ports.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def eventually(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Wait until ``condition()`` is truthy (awaited when it is a coroutine, a historian query);
    return it, or fail with ``what`` after ``timeout`` seconds.

    The tests' one asynchronous wait, for a real peer (a server starting, a reconnection), never a
    timing assertion. ``wait_until`` is the same for a test without an event loop.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def wait_until(condition: Callable[[], Any], what: str = "condition", timeout: float = 60.0) -> Any:
    """``eventually`` for a test without an event loop (a server in another process)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def site(stations: list[dict[str, Any]], tags: list[dict[str, Any]], **extra: Any) -> SiteConfig:
    """A site config from plain dicts, with sensible defaults for the fields tests don't care about."""
    return SiteConfig.model_validate(
        {
            "site": {"name": "test"},
            "stations": [{"name": s["id"], "reconnect_max_delay_s": 1.0, **s} for s in stations],
            "tags": [{"label": {"fr": t["id"]}, **t} for t in tags],
            **extra,
        }
    )
