"""The administrator's ``ecreteur`` commands: API tokens and operator accounts, alarm KPIs, who
is on call, station certificates (trust, cert) and secrets. Each loads the site config, does one
thing and says what it did; a change made here is written to the site's audit trail.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.cli.common import load_site
from core.config.schema import SecurityMode, SiteConfig, Station
from core.storage.paths import StatePaths


def token(args: argparse.Namespace) -> int:
    from core.api.server import token_store

    return _on_store(args, token_store, _token_action)


def _on_store(
    args: argparse.Namespace, opened: Callable[[SiteConfig, Path], Any], action: Callable[..., int]
) -> int:
    """Load the site, open one of its credential stores, do ``action`` on it, close it."""
    config = load_site(args.config)
    if config is None:
        return 1
    store = opened(config, args.data_dir)
    try:
        return action(args, config, store)
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


def user(args: argparse.Namespace) -> int:
    from core.api.server import user_store

    return _on_store(args, user_store, _user_action)


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


def kpis(args: argparse.Namespace) -> int:
    config = load_site(args.config)
    if config is None:
        return 1
    from core.cli.kpis import print_kpis

    asyncio.run(print_kpis(config, args.data_dir, args.hours, args.operators))
    return 0


def oncall(args: argparse.Namespace) -> int:
    config = load_site(args.config)
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


def trust(args: argparse.Namespace) -> int:
    config = load_site(args.config)
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


def cert(args: argparse.Namespace) -> int:
    config = load_site(args.config, check_files=False)  # it makes the files the config names
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


def secrets(args: argparse.Namespace) -> int:
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
