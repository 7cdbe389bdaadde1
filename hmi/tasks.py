"""Work a Qt slot starts on the asyncio loop (qasync): kept referenced until it ends.

asyncio holds only weak references to tasks, so a command started from a button and
forgotten could be collected half-way; every face starts its work here instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

_RUNNING: set[asyncio.Future[Any]] = set()


def later(work: Awaitable[Any]) -> asyncio.Future[Any]:
    """Run ``work`` on the loop; the future is kept until it is done."""
    future = asyncio.ensure_future(work)
    _RUNNING.add(future)
    future.add_done_callback(_RUNNING.discard)
    return future
