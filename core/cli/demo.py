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
from collections.abc import Iterator
from pathlib import Path

from core.children import spawn
from core.cli.common import DEMO_PASSWORD, DEMO_SITE, DEMO_USER, desktop, has_display, load_site
from core.clock import ScenarioClock, started_now
from core.config.schema import SiteConfig
from core.sim.demo import DEMO_WEB, demo_paging
from core.storage.paths import StatePaths

_PORTAL_TOKEN = "portail-demo"


def demo(args: argparse.Namespace) -> int:
    """Start the simulator as its own process (as a real station is), then supervise it."""
    config = load_site(DEMO_SITE)
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
    from core.cli.console import monitor
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
            fresh_alarms(config, args.data_dir)
        with contextlib.suppress(KeyboardInterrupt):
            run = None if args.headless or args.web or not has_display() else desktop()
            if args.web:
                _demo_web(config, args.data_dir, clock)
            else:  # the desktop or the terminal pages the demo roster too, into the demo's mailbox
                with demo_mailbox(args.data_dir, config) as (paged, folder):
                    if run is None:
                        asyncio.run(monitor(paged, DEMO_SITE, args.data_dir, args.duration, clock))
                    else:
                        from core.sim.mailbox import read_outbox

                        run(paged, DEMO_SITE, args.data_dir, language=args.language, theme=args.theme,
                            duration=args.duration, screenshot=args.screenshot, clock=clock,
                            phone=lambda: read_outbox(folder, clock=clock))  # fmt: skip
    except DataDirInUse as err:
        print(f"ecreteur demo: {err}", file=sys.stderr)
        return 1
    finally:
        _stop_simulator(simulator)
    return 0


def fresh_alarms(config: SiteConfig, data_dir: Path) -> None:
    """A new demo meets a new flood: the last run's alarms and journal would greet it otherwise.
    The historian is kept (its trends are the last run's, dated as they were)."""
    from core.storage.lock import AuthorityLock

    paths = StatePaths(config.storage, data_dir)
    lock = AuthorityLock(paths.lock)
    lock.acquire()  # not under a demo still running: DataDirInUse says who holds the files
    try:
        for path in (paths.alarms, paths.paging):  # the last flood's alarms and its incidents
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        for page in paths.beside("demo-mail").glob("*.eml"):  # and the pages its phone received
            page.unlink()
    finally:
        lock.release()


def _demo_web(config: SiteConfig, data_dir: Path, clock: ScenarioClock) -> None:
    """The demo as a server: its pages on loopback, with a demo operator account, paging by
    e-mail to the demo's own mailbox (each page with its incident link) and the portal view."""
    from core.api.server import serve, token_store, user_store
    from core.sim.mailbox import Mailbox
    from core.storage.users import UserError

    users = user_store(config, data_dir)
    if users.get(DEMO_USER) is None:
        with contextlib.suppress(UserError):
            users.add(DEMO_USER, "operator", DEMO_PASSWORD)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    tokens = token_store(config, data_dir)
    tokens.revoke(_PORTAL_TOKEN)  # a fresh one each run: the last run's is in its terminal
    portal = tokens.create(_PORTAL_TOKEN, ["read"])
    folder = StatePaths(config.storage, data_dir).beside("demo-mail")

    async def run() -> None:
        mailbox = Mailbox(folder)
        port = await mailbox.start()
        try:
            print(f"Écrêteur demo: open {DEMO_WEB} and sign in as {DEMO_USER} / {DEMO_PASSWORD} "
                  f"(Ctrl+C stops)\n  on-call pages (e-mail, with their incident link) land in {folder}, "
                  f"shown on the demo's phone: {DEMO_WEB}phone\n"
                  f"  the customer's portal view: {DEMO_WEB}embed#token={portal}", flush=True)  # fmt: skip
            await serve(demo_paging(config, port), DEMO_SITE, data_dir, clock, phone=folder)
        finally:
            await mailbox.stop()

    asyncio.run(run())


@contextlib.contextmanager
def demo_mailbox(data_dir: Path, config: SiteConfig) -> Iterator[tuple[SiteConfig, Path]]:
    """The demo site paging into the demo's mailbox, served on a thread while the demo runs;
    and the mailbox's folder (the desktop's simulated phone reads it)."""
    from core.sim.mailbox import MailboxThread

    folder = StatePaths(config.storage, data_dir).beside("demo-mail")
    mailbox = MailboxThread(folder)
    port = mailbox.start()
    print(f"Écrêteur demo: on-call pages (e-mail) land in {folder}, shown on the Phone (demo) tab; "
          "the On call tab shows who is paged", flush=True)  # fmt: skip
    try:
        yield demo_paging(config, port), folder
    finally:
        mailbox.stop()


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
