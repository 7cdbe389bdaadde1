"""A real Mosquitto broker (Debian's ``mosquitto``) on a free loopback port, for the MQTT tests.

It persists its sessions and queues to its own folder after every change, so that a broker
killed with SIGKILL and restarted on the same port still knows the subscribers' persistent
sessions, as a production broker configured for QoS 1 does.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from pathlib import Path

from core.children import spawn
from tests.conftest import free_port

CONFIG = """\
listener {port} 127.0.0.1
user {user}
allow_anonymous true
persistence true
persistence_location {folder}/
autosave_on_changes true
autosave_interval 1
max_queued_messages 100000
log_dest file {folder}/mosquitto.log
log_type error
log_type warning
log_type notice
"""


def mosquitto() -> str:
    found = shutil.which("mosquitto") or (
        Path("/usr/sbin/mosquitto") if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        raise RuntimeError("mosquitto is not installed: run installers/dev.sh test (it installs Debian's)")
    return str(found)


class Broker:
    """Start, kill (SIGKILL) and restart one broker; every start waits until it accepts connections."""

    def __init__(self, folder: Path, extra: str = "") -> None:
        """``extra``: more mosquitto.conf lines (a benchmark lifts the queue limit)."""
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        user = getpass.getuser()  # as root, mosquitto would switch to its own user and not write here
        self.config.write_text(
            CONFIG.format(port=self.port, folder=folder, user=user) + extra, encoding="utf-8"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, deadline_s: float = 120.0) -> None:
        self.process = spawn([mosquitto(), "-c", str(self.config)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + deadline_s  # ends at the first accepted connection
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited ({self.process.returncode}):\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}:\n{self.log()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
