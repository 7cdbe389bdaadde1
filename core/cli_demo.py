"""``ecreteur demo``: the simulator as its own process (as a real station is), then the
supervision of it on the same time-lapse, on the desktop, the web pages or a terminal table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from core.children import spawn
from core.cli import _DEMO_PASSWORD, _DEMO_USER, _DEMO_WEB, DEMO_SITE, _desktop, _has_display, _load
from core.clock import ScenarioClock, started_now
from core.config.schema import SiteConfig
from core.storage.paths import StatePaths


def demo(args: argparse.Namespace) -> int:
    """Start the simulator as its own process (as a real station is), then supervise it."""
    config = _load(DEMO_SITE)
    if config is None:
        return 1
    # the stations stamp on the time-lapse and the supervision runs on it: physical rates at ×60
    clock = started_now(args.speed)
    command = [sys.executable, "-m", "core.cli", "simulate", "--scenario", args.scenario]
    command += ["--simulation", str(clock)] + (["--tick", str(args.tick)] if args.tick is not None else [])
    command += ["--history-dir", str(StatePaths(config.storage, args.data_dir).station_history)]
    if args.dams:
        command += ["--dams", str(args.dams)]
    simulator = spawn(command)  # dies with the demo, even on kill -9
    from core.console import monitor
    from core.sim.scenario import load_dams

    missing = _wait_for_ports([dam.port for dam in load_dams(args.dams).dams], simulator)
    if missing:
        _stop_simulator(simulator)
        code = simulator.returncode
        why = f"it exited with code {code}" if code not in (None, -signal.SIGINT) else "it did not answer"
        print(f"ecreteur demo: the simulator did not open port(s) {', '.join(map(str, missing))} "
              f"({why}); is another demo already running?", file=sys.stderr)  # fmt: skip
        return 1

    from core.storage.lock import DataDirInUse

    try:
        if not args.keep_alarms:
            _fresh_alarms(config, args.data_dir)
        with contextlib.suppress(KeyboardInterrupt):
            run = None if args.headless or args.web or not _has_display() else _desktop()
            if args.web:
                _demo_web(config, args.data_dir, clock)
            elif run is None:
                asyncio.run(monitor(config, DEMO_SITE, args.data_dir, args.duration, clock))
            else:
                run(config, DEMO_SITE, args.data_dir, language=args.language, theme=args.theme,
                    duration=args.duration, screenshot=args.screenshot, clock=clock)  # fmt: skip
    except DataDirInUse as err:
        print(f"ecreteur demo: {err}", file=sys.stderr)
        return 1
    finally:
        _stop_simulator(simulator)
    return 0


def _fresh_alarms(config: SiteConfig, data_dir: Path) -> None:
    """A new demo meets a new flood: the last run's alarms and journal would greet it otherwise.
    The historian is kept (its trends are the last run's, dated as they were)."""
    from core.storage.lock import AuthorityLock

    paths = StatePaths(config.storage, data_dir)
    lock = AuthorityLock(paths.lock)
    lock.acquire()  # not under a demo still running: DataDirInUse says who holds the files
    try:
        for suffix in ("", "-wal", "-shm"):
            paths.alarms.with_name(paths.alarms.name + suffix).unlink(missing_ok=True)
    finally:
        lock.release()


def _demo_web(config: SiteConfig, data_dir: Path, clock: ScenarioClock) -> None:
    """The demo as a server: its pages on loopback, with a demo operator account."""
    from core.api.server import serve, user_store
    from core.storage.users import UserError

    users = user_store(config, data_dir)
    if users.get(_DEMO_USER) is None:
        with contextlib.suppress(UserError):
            users.add(_DEMO_USER, "operator", _DEMO_PASSWORD)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print(f"Écrêteur demo: open {_DEMO_WEB} and sign in as {_DEMO_USER} / {_DEMO_PASSWORD} "
          "(Ctrl+C stops)", flush=True)  # fmt: skip
    asyncio.run(serve(config, DEMO_SITE, data_dir, clock))


def _stop_simulator(simulator: subprocess.Popen[bytes]) -> None:
    if simulator.poll() is not None:
        return
    simulator.send_signal(signal.SIGINT)
    try:
        simulator.wait(timeout=10)
    except subprocess.TimeoutExpired:
        simulator.kill()
        simulator.wait()


def _wait_for_ports(ports: list[int], process: subprocess.Popen[bytes], timeout: float = 120.0) -> list[int]:
    """Wait until the simulator opens its stations, so the demo starts on live values.

    Returns the ports still closed: the simulator exited, or did not open them in ``timeout``
    (generous: a loaded PC is slow, and the wait ends as soon as every port answers).
    """
    deadline = time.monotonic() + timeout
    pending = set(ports)
    while pending and time.monotonic() < deadline and process.poll() is None:
        for port in list(pending):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pending.discard(port)
        if pending:
            time.sleep(0.1)
    return sorted(pending)
