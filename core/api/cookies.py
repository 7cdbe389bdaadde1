"""Browser sessions: the cookies, the CSRF rule and the security headers of the web pages.

A browser signs in once (``POST /api/v1/auth/session``) and then carries its session in an
HttpOnly cookie that no script can read, ``SameSite=Strict`` (another site's page cannot make
the browser send it) and ``Secure`` when the server speaks TLS. Since a cookie is sent by the
browser on its own, every state-changing request authenticated by the cookie must also prove it
comes from our own pages: a double-submit token (the ``ecr_csrf`` cookie, readable by our
scripts, echoed in the ``X-CSRF-Token`` header, which a cross-site form cannot set) and, when
the browser says where the request comes from (``Origin``, ``Sec-Fetch-Site``), a same-origin
source. A bearer token in a header is not sent by a browser on its own, so API clients are not
concerned. The pages' Content-Security-Policy allows scripts and styles from the server only:
no inline script, nothing from a CDN.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from datetime import datetime
from typing import Any

from starlette.responses import Response

SESSION_COOKIE = "ecr_session"
CSRF_COOKIE = "ecr_csrf"
CSRF_HEADER = "x-csrf-token"
DEVICE_COOKIE = "ecr_device"  # a browser that signed in here before (core.api.throttle)
DEVICE_DAYS = 400  # the longest a browser keeps a cookie
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def page_policy(frame_ancestors: str = "'none'") -> str:
    """The pages' Content-Security-Policy: everything from this server, nothing inline."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        f"form-action 'self'; frame-ancestors {frame_ancestors}"
    )


def own_origin(headers: Mapping[str, str], tls: bool) -> str:
    """This server's origin as the browser sees it (``Host`` as sent)."""
    return f"{'https' if tls else 'http'}://{headers.get('host', '')}"


def cross_site(headers: Mapping[str, str], tls: bool) -> str | None:
    """Why a request is not from our own pages, or None when nothing says it is not."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"a {fetch_site} request"
    origin = headers.get("origin")
    if origin is not None and origin != own_origin(headers, tls):
        return f"a request from {origin}"
    return None


def csrf_refusal(
    method: str, headers: Mapping[str, str], cookies: Mapping[str, str], tls: bool
) -> str | None:
    """Why a cookie-authenticated request must be refused, or None when it may go on."""
    if method in SAFE_METHODS:
        return None
    where = cross_site(headers, tls)
    if where is not None:
        return f"{where} cannot act with this session"
    expected, sent = cookies.get(CSRF_COOKIE, ""), headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(expected, sent):
        return "the X-CSRF-Token header must repeat the ecr_csrf cookie"
    return None


def open_browser_session(response: Response, secret: str, expires: datetime, tls: bool) -> None:
    """Set the session cookie and a fresh CSRF token, both ending with the session."""
    for name, value, http_only in (
        (SESSION_COOKIE, secret, True),
        (CSRF_COOKIE, secrets.token_urlsafe(24), False),
    ):
        response.set_cookie(
            name, value, expires=expires, path="/", secure=tls, httponly=http_only, samesite="strict"
        )


def remember_device(response: Response, device: str, tls: bool) -> None:
    """The device cookie outlives sessions and sign-outs: other people's guesses never lock
    this browser out of its account (it proves nothing else and opens nothing)."""
    response.set_cookie(DEVICE_COOKIE, device, max_age=DEVICE_DAYS * 86400, path="/api/v1/auth",
                        secure=tls, httponly=True, samesite="strict")  # fmt: skip


def close_browser_session(response: Response, tls: bool) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=tls, httponly=name == SESSION_COOKIE, samesite="strict")


ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


class SecurityHeaders:
    """Headers every answer carries: no MIME sniffing, no referrer outside the site (a page's
    address may hold an incident link's token), nothing cached for the API and the pages, and
    the pages' Content-Security-Policy on HTML."""

    def __init__(self, app: ASGIApp, policy: Callable[[str], str]) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                added = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and b"content-security-policy" not in present:
                    added.append((b"content-security-policy", self.policy(path).encode()))
                if not path.startswith("/static/") and b"cache-control" not in present:
                    added.append((b"cache-control", b"no-store"))
                message["headers"] = headers + added
            await send(message)

        await self.app(scope, receive, with_headers)
