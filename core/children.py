"""Child processes that die with their parent, even when the parent is killed with SIGKILL.

The demo starts the simulator and the tests start peers (stations, Prism, Cassandra, servers);
a parent that dies without cleaning up (``kill -9``, an aborted Qt, a pytest timeout) must not
leave them holding ports and memory. Linux's ``PR_SET_PDEATHSIG`` has the kernel send the child
SIGKILL when its parent goes, whatever the cause; it is set between fork and exec.

The signal follows the *thread* that forked, so spawn from a thread that lives as long as the
child must (the main thread or the event loop's).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

_PR_SET_PDEATHSIG = 1


def _tie_to(parent: int) -> Callable[[], None]:
    def tie() -> None:  # runs in the child, between fork and exec: no allocation-heavy work
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the prctl took effect
            os._exit(1)

    return tie


def spawn(args: Sequence[str], **options: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` whose child is killed by the kernel when this process dies."""
    if sys.platform.startswith("linux"):
        options["preexec_fn"] = _tie_to(os.getpid())
    return subprocess.Popen(list(args), **options)
