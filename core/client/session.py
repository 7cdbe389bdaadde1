"""A signed-in operator's session with the site's server: sign-in, the site's redundant servers
tried in turn, the client settings of a control-room PC, and the event stream's socket.

The board built on the session (``remote.py``) and the relayed api stations (``relayed.py``)
both ride on it; the desktop's sign-in dialog needs nothing else.
"""

from __future__ import annotations

import json
import ssl
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from core.paths import config_home
from core.site.operations import Actor, Role

PING_S = 1.0  # a server that stops answering is declared lost within about 3 s


class SignInFailed(Exception):
    """Wrong name or password, an account disabled, or a server that refuses (with its reason)."""


class _Unreachable(SignInFailed):
    """This server did not answer; the site's next one may."""


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in operator on a server: who acts, with which role, and the bearer to send."""

    url: str  # the server's base URL in use, e.g. https://scada.example:8443
    token: str
    user: str
    role: Role
    ca: Path | None = None  # the server's CA when it is not in the system's store
    others: tuple[str, ...] = ()  # the site's other servers, tried in turn when this one is lost

    def next_server(self) -> Session:
        """The same session on the next of the site's servers (redundant servers share sessions)."""
        if not self.others:
            return self
        return replace(self, url=self.others[0], others=(*self.others[1:], self.url))

    @property
    def api(self) -> str:
        return self.url.rstrip("/") + "/api/v1"

    def verify(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=str(self.ca)) if self.ca else True

    def actor(self) -> Actor:
        return Actor(self.user, self.role, "desktop")


@dataclass(frozen=True, slots=True)
class ClientProfile:
    """A control-room PC's client settings (``$XDG_CONFIG_HOME/ecreteur/client.toml``):
    ``server = "https://…"`` (or a list of the site's redundant servers), optionally
    ``ca = "/path/ca.pem"`` and ``user = "name"``."""

    server: str | None = None
    ca: Path | None = None
    user: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> ClientProfile:
        path = path or config_home() / "client.toml"
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{path}: {err}") from err
        unknown = set(data) - {"server", "ca", "user"}
        if unknown:
            raise ValueError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))} (server, ca, user)")
        ca, server = data.get("ca"), data.get("server")
        if isinstance(server, list):  # redundant servers: server = ["https://a…", "https://b…"]
            server = ", ".join(map(str, server))
        return cls(server, Path(ca) if ca else None, str(data.get("user", "")))


async def _ask(probe: Session, method: str, path: str, **request: Any) -> dict[str, Any]:
    """One sign-in request; a refusal or an unreachable server is a :class:`SignInFailed`."""
    try:
        async with httpx.AsyncClient(verify=probe.verify(), timeout=10) as client:
            answer = await client.request(method, f"{probe.api}{path}", **request)
    except httpx.HTTPError as err:
        raise _Unreachable(f"the server {probe.url} cannot be reached: {err or type(err).__name__}") from err
    if answer.status_code == 503:  # stopping: another server may answer
        raise _Unreachable(f"the server {probe.url} is stopping")
    if answer.status_code != 200:
        raise SignInFailed(detail_of(answer))
    body: dict[str, Any] = answer.json()
    return body


def servers(url: str) -> list[str]:
    """The site's servers in ``url``: one address, or several separated by commas or spaces
    (redundant servers: whichever answers is used, and the others when it is lost)."""
    found = [part for part in url.replace(",", " ").split() if part]
    if not found:
        raise SignInFailed("no server address given")
    return found


async def _first_answer(url: str, ask: Callable[[str], Awaitable[Session]]) -> Session:
    """``ask`` each of the site's servers in turn until one answers; a refusal is final (the
    servers share their accounts), an unreachable server passes to the next."""
    candidates = servers(url)
    failures = []
    for index, candidate in enumerate(candidates):
        try:
            session = await ask(candidate)
        except _Unreachable as err:
            failures.append(str(err))
            continue
        return replace(session, others=tuple(candidates[index + 1 :] + candidates[:index]))
    raise SignInFailed("; ".join(failures))


async def sign_in(url: str, user: str, password: str, ca: Path | None = None) -> Session:
    """Open a session on the site's server (the first of ``url``'s that answers) with an
    operator account (``ecreteur user add``)."""

    async def ask(candidate: str) -> Session:
        probe = Session(candidate, "", user, Role.VIEWER, ca)
        body = await _ask(probe, "POST", "/auth/login", json={"user": user, "password": password})
        return Session(candidate, body["token"], body["user"], Role[body["role"].upper()], ca)

    return await _first_answer(url, ask)


async def resume(url: str, token: str, ca: Path | None = None) -> Session:
    """A session from a bearer already held (a token or a saved session): who it is."""

    async def ask(candidate: str) -> Session:
        probe = Session(candidate, token, "", Role.VIEWER, ca)
        me = await _ask(probe, "GET", "/auth/me", headers=bearer(token))
        return Session(candidate, token, me["user"] or me["name"], Role[me["role"].upper()], ca)

    return await _first_answer(url, ask)


async def read_stream(
    session: Session, url: str, receive: Callable[[dict[str, Any]], None], opened: Callable[[], None]
) -> str:
    """Follow the server's event stream at ``url`` until it ends; say why it ended."""
    ssl_context = session.verify() if session.url.startswith("https") else None
    try:
        async with connect(
            url,
            additional_headers=bearer(session.token),
            ssl=ssl_context if isinstance(ssl_context, ssl.SSLContext) else None,
            open_timeout=5,
            ping_interval=PING_S,
            ping_timeout=2 * PING_S,
            max_size=64 * 2**20,
        ) as socket:
            opened()
            async for raw in socket:
                receive(json.loads(raw))
        return "the server closed the event stream"
    except InvalidStatus as err:
        return f"the server refused the event stream (HTTP {err.response.status_code})"
    except ConnectionClosed:
        return "the connection to the server was lost"
    except (OSError, TimeoutError, WebSocketException) as err:
        return f"cannot reach the server: {err or type(err).__name__}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def detail_of(answer: httpx.Response) -> str:
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    return str(detail or f"HTTP {answer.status_code}")
