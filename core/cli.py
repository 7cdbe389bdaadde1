"""The ``ecreteur`` command: check-config, schema, simulate, monitor, demo, secrets."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from core.children import spawn
from core.clock import ScenarioClock, started_now
from core.config.loader import ConfigError, load_config
from core.config.schema import SecurityMode, SiteConfig, Station
from core.paths import default_data_dir
from core.sim.scenario import RESOURCES
from core.storage.paths import StatePaths

DEMO_SITE = RESOURCES / "sites" / "demo.yaml"


_DEMO_WEB = "http://127.0.0.1:8080/"  # the demo site's api section: loopback only
_DEMO_USER, _DEMO_PASSWORD = "demo", "ecreteur-demo"
_DATA_DIR_HELP = "state directory (default: $ECRETEUR_DATA_DIR, systemd's, or ~/.local/state/ecreteur)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "data_dir", False) is None:
        args.data_dir = default_data_dir()
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # asyncua warns about routine events (revised session timeouts, policy lists) at WARNING
    if args.log_level != "debug":
        logging.getLogger("asyncua").setLevel(logging.ERROR)
    if args.command is None:
        parser.print_help()
        return 2
    result: int = args.handler(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecreteur", description="Supervision of flood-attenuation dams")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    commands = parser.add_subparsers(dest="command")

    check = commands.add_parser("check-config", help="validate a site config without starting anything")
    check.add_argument("config", type=Path)
    check.set_defaults(handler=_check_config)

    schema = commands.add_parser("schema", help="print the JSON Schema of the site config")
    schema.set_defaults(handler=_schema)

    plugins = commands.add_parser("plugins", help="list the sources, channels and cards plugins offer")
    plugins.set_defaults(handler=_plugins)

    sim = commands.add_parser("simulate", help="serve simulated dam stations over OPC-UA")
    _simulation_options(sim)
    sim.add_argument("--station", action="append", help="serve only this station (repeatable)")
    sim.add_argument("--port", type=int, help="override the port (with a single --station)")
    sim.add_argument("--history-dir", type=Path, help="persist each station's data logger here")
    sim.add_argument("--certificate", type=Path, help="server certificate: enables SignAndEncrypt")
    sim.add_argument("--private-key", type=Path)
    stamps = sim.add_mutually_exclusive_group()
    stamps.add_argument("--simulation", type=_scenario_clock, metavar="EPOCH@SPEED",
                        help="stamp samples on this time-lapse's clock (default at a speed other than 1: "
                        "one starting now, printed for the supervision's --simulation)")  # fmt: skip
    stamps.add_argument("--wall-clock", action="store_true",
                        help="stamp samples with the wall clock, however fast the physics runs")  # fmt: skip
    sim.set_defaults(handler=_simulate)

    monitor = commands.add_parser("monitor", help="acquire and store a site, showing a live table")
    monitor.add_argument("--config", type=Path, required=True)
    monitor.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP)
    monitor.add_argument("--duration", type=float, help="stop after this many seconds")
    _supervision_clock(monitor)
    monitor.set_defaults(handler=_monitor)

    hmi = commands.add_parser("hmi", help="open the desktop on a site")
    hmi.add_argument("--config", type=Path, required=True)
    hmi.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP + "; a client: its client/")
    hmi.add_argument(
        "--server",
        metavar="URL[,URL…]",
        help="be a client of the site's server (sign in; alarms, journal and paging are the server's); "
        "several URLs: the site's redundant servers, whichever answers; "
        "default: 'server' in ~/.config/ecreteur/client.toml, else standalone",
    )
    hmi.add_argument(
        "--server-ca", type=Path, help="the server's CA certificate, when not in the system store"
    )
    hmi.add_argument("--standalone", action="store_true", help="ignore the client profile's server")
    _supervision_clock(hmi)
    _desktop_options(hmi)
    hmi.set_defaults(handler=_hmi)

    demo = commands.add_parser("demo", help="simulate the three demo dams and supervise them")
    _simulation_options(demo)
    demo.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP)
    demo.add_argument("--headless", action="store_true", help="a terminal table instead of the desktop")
    demo.add_argument(
        "--keep-alarms",
        action="store_true",
        help="keep the alarm journal and states of the last demo run (default: a fresh start)",
    )
    demo.add_argument(
        "--web",
        action="store_true",
        help=f"serve the web pages and the REST API on {_DEMO_WEB} instead of the desktop "
        f"(account {_DEMO_USER}, password {_DEMO_PASSWORD})",
    )
    _desktop_options(demo)
    demo.set_defaults(handler=_demo)

    server = commands.add_parser("server", help="run headless: acquisition, alarms, historian, REST API")
    server.add_argument("--config", type=Path, required=True)
    server.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP)
    server.add_argument(
        "--log-level",
        dest="server_log_level",
        choices=["debug", "info", "warning", "error"],
        default="info",
        help="what the server logs to stdout (default: info)",
    )
    _supervision_clock(server)
    server.set_defaults(handler=_server)

    token = commands.add_parser("token", help="manage the REST API's bearer tokens")
    token.add_argument("action", choices=["create", "list", "revoke"])
    token.add_argument("name", nargs="?")
    token.add_argument("--config", type=Path, required=True)
    token.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP)
    token.add_argument(
        "--scope", action="append", default=[], help="read, ingest, operate, admin (repeatable)"
    )
    token.set_defaults(handler=_token)

    user = commands.add_parser("user", help="manage operator accounts and their roles")
    user.add_argument("action", choices=["add", "list", "passwd", "role", "disable", "enable"])
    user.add_argument("name", nargs="?")
    user.add_argument("--role", choices=["viewer", "operator", "engineer", "admin"])
    user.add_argument("--config", type=Path, required=True)
    user.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP)
    user.set_defaults(handler=_user)

    kpis = commands.add_parser("kpis", help="alarm-system figures (EEMUA 191) from the journal")
    kpis.add_argument("--config", type=Path, required=True)
    kpis.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP)
    kpis.add_argument("--hours", type=float, default=24.0, help="the period, ending now")
    kpis.add_argument("--operators", type=int, default=1)
    kpis.set_defaults(handler=_kpis)

    oncall = commands.add_parser("oncall", help="who is on call now and next, per team")
    oncall.add_argument("--config", type=Path, required=True)
    oncall.add_argument(
        "--at", type=datetime.fromisoformat, help="another instant (ISO 8601, local if naive)"
    )
    oncall.set_defaults(handler=_oncall)

    trust = commands.add_parser("trust", help="show a secure station's certificate and trust it")
    trust.add_argument("station")
    trust.add_argument("--config", type=Path, required=True)
    trust.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP)
    trust.add_argument("--fingerprint", help="trust without asking if the station presents this SHA-256")
    trust.set_defaults(handler=_trust)

    cert = commands.add_parser("cert", help="create the supervisor's OPC-UA client certificate")
    cert.add_argument("action", choices=["create"])
    cert.add_argument("--config", type=Path, required=True)
    cert.add_argument("--station", action="append", help="only this station's files (repeatable)")
    cert.add_argument("--uri", help="application URI (default: urn:HOST:ecreteur)")
    cert.add_argument("--host", default=socket.gethostname(), help="host name in the certificate")
    cert.add_argument("--days", type=int, default=3650)
    cert.add_argument("--force", action="store_true", help="replace existing files")
    cert.set_defaults(handler=_cert)

    secrets = commands.add_parser("secrets", help="store a secret in the OS keyring")
    secrets.add_argument("action", choices=["set"])
    secrets.add_argument("name")
    secrets.set_defaults(handler=_secrets)
    return parser


def _desktop_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--language", choices=["fr", "en"], help="default: the site's, then the system's")
    parser.add_argument(
        "--theme", choices=["day", "night"], help="default: the last chosen in the menu, or day"
    )
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--screenshot", type=Path, help="save the window as PNG when stopping")


def _desktop() -> Callable[..., int] | None:
    """The desktop's entry point, registered by the ``hmi`` package (core never imports Qt)."""
    for entry in entry_points(group="ecreteur.desktop"):
        if entry.name == "run":
            try:
                run: Callable[..., int] = entry.load()
            except ImportError:
                return None
            return run
    return None


def _has_display() -> bool:
    return bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    )


def _scenario_clock(text: str) -> ScenarioClock:
    try:
        return ScenarioClock.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _supervision_clock(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--simulation", type=_scenario_clock, metavar="EPOCH@SPEED",
                        help="supervise a time-lapse (the stations of 'ecreteur simulate'): run on its "
                        "clock, so rates, forecasts, delays and shelving are simulated time")  # fmt: skip


def _simulation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dams", type=Path, help="dams file (default: the three demo dams)")
    parser.add_argument("--scenario", default="flood-100y", help="scenario name or file")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    parser.add_argument("--tick", type=float, default=None,
                        help="real seconds between station updates (default: a simulated minute at most, "
                        "1 s at ×60, 0.1 s at ×600, never under 0.05 s)")  # fmt: skip


def _load(path: Path, check_files: bool = True) -> SiteConfig | None:
    try:
        return load_config(path, check_files)
    except ConfigError as err:
        for issue in err.issues:
            print(issue, file=sys.stderr)
        print(f"{path}: {len(err.issues)} problem(s) found", file=sys.stderr)
        return None


def _plugins(_args: argparse.Namespace) -> int:
    from core.plugins import CARDS, CHANNELS, SOURCES, describe, names

    offered = [describe(group, name) for group in (SOURCES, CHANNELS, CARDS) for name in sorted(names(group))]
    print("\n".join(offered) if offered else "no plugin installed (docs/PLUGINS.md says how to add one)")
    return 0


def _check_config(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    print(f"{args.config}: OK ({len(config.stations)} stations, {len(config.tags)} tags)")
    return 0


def _schema(_args: argparse.Namespace) -> int:
    print(json.dumps(SiteConfig.model_json_schema(), indent=2, ensure_ascii=False))
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from core.sim.server import serve

    try:
        asyncio.run(serve(args))
    except ValueError as err:
        print(f"ecreteur simulate: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def _monitor(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    from core.console import monitor

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(monitor(config, args.config, args.data_dir, args.duration, args.simulation))
    return 0


def _hmi(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    run = _desktop()
    if run is None:
        print("ecreteur hmi: the desktop is not installed (pip install 'ecreteur[hmi]')", file=sys.stderr)
        return 1
    from core.remote import ClientProfile
    from core.storage.lock import DataDirInUse

    try:
        profile = ClientProfile.load()
    except ValueError as err:
        print(f"ecreteur hmi: {err}", file=sys.stderr)
        return 1
    server = None if args.standalone else args.server or profile.server
    if server and args.data_dir == default_data_dir():  # a client's own cache, beside a local server's
        args.data_dir = args.data_dir / "client"
    try:
        result: int = run(config, args.config, args.data_dir, language=args.language, theme=args.theme,
                          duration=args.duration, screenshot=args.screenshot, server=server,
                          server_ca=args.server_ca or profile.ca, user=profile.user,
                          clock=args.simulation)  # fmt: skip
    except DataDirInUse as err:
        print(f"ecreteur hmi: {err}", file=sys.stderr)
        return 1
    return result


def _demo(args: argparse.Namespace) -> int:
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


def _server(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    from core.api.server import serve

    # one line per event on stdout; journald stamps its lines itself (it sets JOURNAL_STREAM),
    # anywhere else (a terminal, a container, a file) each line carries its UTC timestamp
    handler = logging.StreamHandler(sys.stdout)
    fields = "level=%(levelname)s logger=%(name)s msg=%(message)r"
    if not os.environ.get("JOURNAL_STREAM"):
        fields = "ts=%(asctime)s.%(msecs)03dZ " + fields
    formatter = logging.Formatter(fields, datefmt="%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, args.server_log_level.upper()))
    from core.storage.lock import DataDirInUse

    try:
        asyncio.run(serve(config, args.config, args.data_dir, args.simulation))
    except DataDirInUse as err:
        logging.getLogger("core.api.server").error("%s", err)
        print(f"ecreteur server: {err}", file=sys.stderr)
        return 1
    return 0


def _token(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    from core.api.server import token_store

    store = token_store(config, args.data_dir)
    try:
        return _token_action(args, config, store)
    finally:
        store.close()


def _token_action(args: argparse.Namespace, config: SiteConfig, store: Any) -> int:
    if args.action == "list":
        for token in store.list():
            print(f"{token.name}\t{','.join(sorted(token.scopes))}\t{token.created:%Y-%m-%d %H:%M} UTC")
        return 0
    if not args.name:
        print(f"ecreteur token {args.action}: a token name is needed", file=sys.stderr)
        return 2
    if args.action == "revoke":
        if not store.revoke(args.name):
            print(f"no token named {args.name!r}", file=sys.stderr)
            return 1
        _audit_cli(config, args.data_dir, "token revoke", args.name, "")
        print(f"token {args.name!r} revoked")
        return 0
    try:
        secret = store.create(args.name, args.scope)
    except ValueError as err:
        print(f"ecreteur token create: {err}", file=sys.stderr)
        return 2
    _audit_cli(config, args.data_dir, "token create", args.name, " ".join(sorted(set(args.scope))))
    print(secret)
    print(
        f"token {args.name!r} ({', '.join(sorted(set(args.scope)))}): shown once, store it now",
        file=sys.stderr,
    )
    return 0


def _new_password(name: str) -> str:
    """Asked twice at a terminal; one line on stdin from a provisioning script."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"password for {name}: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _user(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    from core.api.server import user_store

    store = user_store(config, args.data_dir)
    try:
        return _user_action(args, config, store)
    finally:
        store.close()


def _user_action(args: argparse.Namespace, config: SiteConfig, store: Any) -> int:
    from core.storage.users import UserError

    if args.action == "list":
        for account in store.list():
            state = "disabled" if account.disabled else "enabled"
            print(f"{account.name}\t{account.role}\t{state}\tchanged {account.changed:%Y-%m-%d %H:%M} UTC")
        return 0
    if not args.name:
        print(f"ecreteur user {args.action}: a user name is needed", file=sys.stderr)
        return 2
    try:
        if args.action == "add":
            if args.role is None:
                raise UserError("--role is needed: viewer, operator, engineer or admin")
            account = store.add(args.name, args.role, _new_password(args.name))
        elif args.action == "passwd":
            account = store.set_password(args.name, _new_password(args.name))
        elif args.action == "role":
            if args.role is None:
                raise UserError("--role is needed")
            account = store.set_role(args.name, args.role)
        else:
            account = store.set_disabled(args.name, args.action == "disable")
    except (UserError, ValueError) as err:
        print(f"ecreteur user {args.action}: {err}", file=sys.stderr)
        return 1
    if args.action in ("passwd", "disable", "role"):
        from core.api.server import token_store

        sessions = token_store(config, args.data_dir)
        try:
            sessions.close_sessions_of(account.name)  # sign in again
        finally:
            sessions.close()
    detail = f"role {account.role}" + (", disabled" if account.disabled else "")
    _audit_cli(config, args.data_dir, f"user {args.action}", account.name, detail)
    print(f"user {account.name!r}: {detail}")
    return 0


def _audit_cli(config: SiteConfig, data_dir: Path, command: str, target: str, detail: str) -> None:
    """An administrator's change made from the command line, in the site's audit trail."""
    from core.storage.audit import AuditEntry, AuditStore

    audit = AuditStore(StatePaths(config.storage, data_dir).audit)
    audit.record(AuditEntry(datetime.now(UTC), getpass.getuser(), "admin", "cli", command, target, detail,
                            "done"))  # fmt: skip
    audit.close()


def _kpis(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    from core.alarms.report import print_kpis

    asyncio.run(print_kpis(config, args.data_dir, args.hours, args.operators))
    return 0


def _oncall(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    if config.roster is None or not config.roster.teams:
        print(f"{args.config}: no `roster` with teams", file=sys.stderr)
        return 1
    from core.notify.roster import OnCall

    oncall = OnCall(config.roster)
    at = args.at or datetime.now(oncall.zone)
    at = at if at.tzinfo else at.replace(tzinfo=oncall.zone)

    def shown(moment: datetime) -> str:
        return moment.astimezone(oncall.zone).strftime("%a %d/%m %H:%M %Z")

    for team in config.roster.teams:
        now, following = oncall.shift(team.id, at), oncall.next_shift(team.id, at)
        why = f" ({now.reason})" if now.reason else ""
        print(f"{team.name} [{team.id}]")
        print(f"  now:  {now.person.name} {now.person.phone or ''} until {shown(now.end)}{why}")
        print(f"  next: {following.person.name} {following.person.phone or ''} from {shown(following.start)}")
    return 0


def _secure_station(config: SiteConfig, station_id: str) -> Station | None:
    try:
        station = config.station(station_id)
    except KeyError:
        print(f"no station {station_id!r} in the config", file=sys.stderr)
        return None
    if station.security.mode is SecurityMode.NONE:
        print(
            f"station {station_id} uses no security (security.mode: None): nothing to trust", file=sys.stderr
        )
        return None
    return station


def _trust(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    station = _secure_station(config, args.station)
    if station is None:
        return 1
    from core.acquisition.opcua import server_certificate
    from core.acquisition.trust import StationRefused, TrustStore

    try:
        info = asyncio.run(server_certificate(station))
    except StationRefused as err:
        print(err, file=sys.stderr)
        return 1
    except (OSError, TimeoutError) as err:
        print(f"station {station.id} ({station.endpoint}) cannot be reached: {err}", file=sys.stderr)
        return 1
    print(f"station {station.id} ({station.endpoint}) presents:\n{info.describe()}")
    problem = info.validity_problem(datetime.now(UTC))
    if problem is not None:
        print(f"this certificate is {problem}: renew it on the station; not trusted", file=sys.stderr)
        return 1
    if args.fingerprint is not None:
        wanted = args.fingerprint.replace(":", "").upper()
        if wanted != info.fingerprint.replace(":", ""):
            print("the station presents another fingerprint than the one given: not trusted", file=sys.stderr)
            return 1
    elif not sys.stdin.isatty():
        print(
            "not trusted: confirm interactively, or pass --fingerprint with the value above", file=sys.stderr
        )
        return 1
    elif input("Compare the SHA-256 with the station's own. Trust it? [y/N] ").strip().lower() not in (
        "y",
        "o",
    ):
        print("not trusted")
        return 1
    path = TrustStore(StatePaths(config.storage, args.data_dir).trust).trust(station.id, info.der)
    print(f"trusted: {path}")
    return 0


def _cert(args: argparse.Namespace) -> int:
    config = _load(args.config, check_files=False)  # it makes the files the config names
    if config is None:
        return 1
    from core.acquisition.opcua import create_certificate
    from core.acquisition.trust import CertificateInfo, load_der

    base = args.config.resolve().parent
    uri = args.uri or f"urn:{args.host}:ecreteur"
    done: set[tuple[Path, Path]] = set()
    chosen = [s for s in config.stations if not args.station or s.id in args.station]
    for station in chosen:
        security = station.security
        if security.mode is SecurityMode.NONE or not security.certificate or not security.private_key:
            continue
        cert, key = (base / path for path in (security.certificate, security.private_key))
        if (cert, key) in done:
            continue
        done.add((cert, key))
        if (cert.exists() or key.exists()) and not args.force:
            print(f"{cert} exists: kept (--force replaces it)")
            continue
        create_certificate(key, cert, uri, args.host, days=args.days)
        info = CertificateInfo.parse(load_der(cert))
        print(f"created {cert} and {key} (mode 0600) for {uri}\n  SHA-256: {info.fingerprint}")
    if not done:
        print("no station with security.mode Sign or SignAndEncrypt names a certificate", file=sys.stderr)
        return 1
    print("give the certificate to each station's administrator to trust it on the station")
    return 0


def _secrets(args: argparse.Namespace) -> int:
    from core.config.secrets import SecretMissing, store

    if sys.stdin.isatty():
        value = getpass.getpass(f"value of secret {args.name!r}: ")
    else:  # piped in by a provisioning script: `printf %s "$TOKEN" | ecreteur secrets set NAME`
        value = sys.stdin.readline().rstrip("\n")
    if not value:
        print("empty value: nothing stored", file=sys.stderr)
        return 1
    try:
        store(args.name, value)
    except SecretMissing as err:
        print(f"ecreteur secrets set: {err}", file=sys.stderr)
        return 1
    print(f"secret {args.name!r} stored in the keyring (service 'ecreteur')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
