"""The ``ecreteur`` command: its parser, and the commands that run the site (check-config,
schema, plugins, simulate, monitor, hmi, server). The demo is in ``demo.py``, the
administrator's commands (tokens, accounts, KPIs, on-call, trust, certificates, secrets) in
``admin.py``, what they share in ``common.py``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from core.cli.common import DEMO_PASSWORD, DEMO_USER, desktop, load_site
from core.clock import ScenarioClock
from core.config.schema import SiteConfig
from core.paths import default_data_dir
from core.sim.demo import DEMO_WEB

_DATA_DIR_HELP = "state directory (default: $ECRETEUR_DATA_DIR, systemd's, or ~/.local/state/ecreteur)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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


def build_parser() -> argparse.ArgumentParser:
    from core.cli import admin
    from core.cli import demo as demo_command

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
        help=f"serve the web pages and the REST API on {DEMO_WEB} instead of the desktop "
        f"(account {DEMO_USER}, password {DEMO_PASSWORD})",
    )
    _desktop_options(demo)
    demo.set_defaults(handler=demo_command.demo)

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
    token.set_defaults(handler=admin.token)

    user = commands.add_parser("user", help="manage operator accounts and their roles")
    user.add_argument("action", choices=["add", "list", "passwd", "role", "disable", "enable"])
    user.add_argument("name", nargs="?")
    user.add_argument("--role", choices=["viewer", "operator", "engineer", "admin"])
    user.add_argument("--config", type=Path, required=True)
    user.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP)
    user.set_defaults(handler=admin.user)

    kpis = commands.add_parser("kpis", help="alarm-system figures (EEMUA 191) from the journal")
    kpis.add_argument("--config", type=Path, required=True)
    kpis.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP)
    kpis.add_argument("--hours", type=float, default=24.0, help="the period, ending now")
    kpis.add_argument("--operators", type=int, default=1)
    kpis.set_defaults(handler=admin.kpis)

    oncall = commands.add_parser("oncall", help="who is on call now and next, per team")
    oncall.add_argument("--config", type=Path, required=True)
    oncall.add_argument(
        "--at", type=datetime.fromisoformat, help="another instant (ISO 8601, local if naive)"
    )
    oncall.set_defaults(handler=admin.oncall)

    trust = commands.add_parser("trust", help="show a secure station's certificate and trust it")
    trust.add_argument("station")
    trust.add_argument("--config", type=Path, required=True)
    trust.add_argument("--data-dir", type=Path, default=None, help=_DATA_DIR_HELP)
    trust.add_argument("--fingerprint", help="trust without asking if the station presents this SHA-256")
    trust.set_defaults(handler=admin.trust)

    cert = commands.add_parser("cert", help="create the supervisor's OPC-UA client certificate")
    cert.add_argument("action", choices=["create"])
    cert.add_argument("--config", type=Path, required=True)
    cert.add_argument("--station", action="append", help="only this station's files (repeatable)")
    cert.add_argument("--uri", help="application URI (default: urn:HOST:ecreteur)")
    cert.add_argument("--host", default=socket.gethostname(), help="host name in the certificate")
    cert.add_argument("--days", type=int, default=3650)
    cert.add_argument("--force", action="store_true", help="replace existing files")
    cert.set_defaults(handler=admin.cert)

    secrets = commands.add_parser("secrets", help="store a secret in the OS keyring")
    secrets.add_argument("action", choices=["set"])
    secrets.add_argument("name")
    secrets.set_defaults(handler=admin.secrets)
    return parser


def _desktop_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--language", choices=["fr", "en"], help="default: the site's, then the system's")
    parser.add_argument(
        "--theme", choices=["day", "night"], help="default: the last chosen in the menu, or day"
    )
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--screenshot", type=Path, help="save the window as PNG when stopping")


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


def _plugins(_args: argparse.Namespace) -> int:
    from core.plugins import CARDS, CHANNELS, SOURCES, describe, names

    offered = [describe(group, name) for group in (SOURCES, CHANNELS, CARDS) for name in sorted(names(group))]
    print("\n".join(offered) if offered else "no plugin installed (docs/PLUGINS.md says how to add one)")
    return 0


def _check_config(args: argparse.Namespace) -> int:
    config = load_site(args.config)
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
    config = load_site(args.config)
    if config is None:
        return 1
    from core.cli.console import monitor

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(monitor(config, args.config, args.data_dir, args.duration, args.simulation))
    return 0


def _hmi(args: argparse.Namespace) -> int:
    config = load_site(args.config)
    if config is None:
        return 1
    run = desktop()
    if run is None:
        print("ecreteur hmi: the desktop is not installed (pip install 'ecreteur[hmi]')", file=sys.stderr)
        return 1
    from core.client.session import ClientProfile
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


def _server(args: argparse.Namespace) -> int:
    config = load_site(args.config)
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


if __name__ == "__main__":
    sys.exit(main())
