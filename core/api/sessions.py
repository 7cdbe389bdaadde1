"""Operators' sessions: sign in with an account of this site (``ecreteur user add``), sign out.

No ``from __future__ import annotations`` (FastAPI reads annotations at run time).

A desktop or a script gets a bearer token for a shift; a browser gets the same session as an
HttpOnly cookie beside a CSRF cookie, and a device cookie. Failed sign-ins are throttled
(``core.api.throttle``: other people's guesses never lock out a known device), and every
attempt is in the audit trail.
"""

import asyncio
import math
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from core.api import schemas as s
from core.api.auth import API, ERRORS, Access, role_of
from core.api.cookies import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    close_browser_session,
    cross_site,
    open_browser_session,
    remember_device,
)
from core.api.throttle import Attempt, LoginThrottle
from core.model import utcnow
from core.runtime import Runtime
from core.storage.audit import AuditEntry
from core.storage.tokens import ROLE_SCOPES, Token
from core.storage.users import UserStore

SESSION_HOURS = 12.0  # a control-room shift


def router(runtime: Runtime, access: Access, users: UserStore | None) -> APIRouter:
    routes = APIRouter()
    tokens, tls = access.tokens, access.tls
    throttle = LoginThrottle()

    @routes.post(
        f"{API}/auth/login",
        response_model=s.SessionOut,
        responses={
            400: {"model": s.Problem},
            401: {"model": s.Problem},
            429: {"model": s.Problem},
            422: {"model": s.Problem},
        },
        summary="Sign in with an operator account (ecreteur user add)",
    )
    async def login(body: s.Login, request: Request) -> Any:
        secret, account, expires, _ = await sign_in(body, request, "sign in")
        return s.SessionOut(token=secret, user=account.name, role=account.role, expires=expires)

    async def sign_in(body: s.Login, request: Request, command: str) -> tuple[str, Any, datetime, str | None]:
        """Check a name and password (throttled, audited) and open a session; also return the
        browser's device cookie."""
        host = request.client.host if request.client else "?"
        attempt = Attempt(body.user, host, request.cookies.get(DEVICE_COOKIE))
        address = f"ip:{host}"
        wait = throttle.wait(attempt)
        if wait > 0:
            runtime.audit.record(AuditEntry(utcnow(), body.user, "-", address, command, body.user, "",
                                            "refused: too many failed sign-ins"))  # fmt: skip
            raise HTTPException(429, f"too many failed sign-ins from here: retry in {math.ceil(wait)} s",
                                headers={"Retry-After": str(math.ceil(wait))})  # fmt: skip
        account = await asyncio.to_thread(users.verify, body.user, body.password) if users else None
        outcome = "done" if account else "refused: wrong name or password"
        runtime.audit.record(AuditEntry(utcnow(), body.user, account.role if account else "-", address,
                                        command, body.user, "", outcome))  # fmt: skip
        if account is None:
            throttle.failed(attempt)
            raise HTTPException(401, "wrong user name or password, or the account is disabled")
        device = throttle.succeeded(attempt, browser=command == "sign in (web)")
        secret, expires = tokens.open_session(account.name, account.role, timedelta(hours=SESSION_HOURS))
        return secret, account, expires, device

    @routes.post(
        f"{API}/auth/session",
        response_model=s.Me,
        responses={400: {"model": s.Problem}, 401: {"model": s.Problem}, 403: {"model": s.Problem},
                   429: {"model": s.Problem}, 422: {"model": s.Problem}},
        summary="Sign a browser in: the session is an HttpOnly cookie, with a CSRF cookie",
    )  # fmt: skip
    async def browser_login(body: s.Login, request: Request) -> Any:
        where = cross_site(request.headers, tls)
        if where is not None:  # a sign-in forged by another site would sign the victim in as someone else
            raise HTTPException(403, f"{where} cannot sign in")
        secret, account, expires, device = await sign_in(body, request, "sign in (web)")
        response = JSONResponse(s.Me(name=f"session {account.name}", user=account.name, role=account.role,
                                     scopes=sorted(ROLE_SCOPES[account.role])).model_dump())  # fmt: skip
        open_browser_session(response, secret, expires, tls)
        if device is not None:
            remember_device(response, device, tls)
        return response

    @routes.post(f"{API}/auth/logout", status_code=204, responses=ERRORS, summary="End this session")
    async def logout(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(access.bearer)],
        token: Annotated[Token, Depends(access.need(None))],
    ) -> Response:
        secret = credentials.credentials if credentials is not None else request.cookies.get(SESSION_COOKIE)
        if token.user is not None and secret:
            tokens.close_session(secret)
            access.cache.pop(secret, None)
        response = Response(status_code=204)
        if credentials is None:  # a browser: its cookies go too
            close_browser_session(response, tls)
        return response

    @routes.get(f"{API}/auth/me", response_model=s.Me, responses=ERRORS, summary="Who this bearer is")
    async def me(token: Annotated[Token, Depends(access.need(None))]) -> Any:
        return s.Me(name=token.name, user=token.user, role=role_of(token).word, scopes=sorted(token.scopes))

    return routes
