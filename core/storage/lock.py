"""One authority per data directory: a second supervisor on the same files refuses to start.

Two processes on one SQLite data directory would each evaluate the alarms, each run a cascade
and page the on-call phone twice, and interleave their journals. The first to start holds an
exclusive ``flock`` on ``<storage>.lock`` for as long as it runs (the kernel drops it when the
process dies, even on SIGKILL, so a crash never leaves a stale lock); the second is told who
holds it. Several servers on one Cassandra cluster elect a leader instead (the failover issue).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DataDirInUse(RuntimeError):
    """Another Écrêteur process already supervises from these files."""


class AuthorityLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DataDirInUse(
                f"another Écrêteur process (pid {holder}) already supervises this site from "
                f"{self.path.parent}: only one process may alarm and page from a data directory. "
                "Stop it, give this one its own --data-dir, or connect a desktop to the server "
                "(ecreteur hmi --server URL)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
