"""Who is calling: bearer tokens and browser sessions, checked once for every router.

No ``from __future__ import annotations``: FastAPI reads the dependencies from the annotations
at run time.

Every endpoint but ``/health``, the sign-in and Twilio's webhooks needs a bearer token with the
right scope: 401 when the token is missing or unknown, 403 when it lacks the scope. A browser
signs in instead and carries an HttpOnly session cookie, checked against the CSRF rule.
"""

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.api import schemas as s
from core.api.cookies import SESSION_COOKIE, csrf_refusal
from core.site.operations import Role
from core.storage.tokens import Token, TokenStore

API = "/api/v1"
_TOKEN_CACHE_S = 5.0
_TOKEN_CACHE = 1024  # valid bearers kept verified

Scope = Literal["read", "ingest", "operate", "engineer", "admin"]
Need = Callable[[Scope | None], Callable[..., Awaitable[Token]]]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": s.Problem, "description": "missing or unknown token"},
    403: {"model": s.Problem, "description": "the token lacks the scope"},
    422: {"model": s.Problem, "description": "a parameter or the body is not valid; `detail` says which"},
}
WITH_BODY: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"model": s.Problem, "description": "the body is not JSON"},
}


class Access:
    """The site's tokens as FastAPI dependencies: ``need(scope)`` guards a route."""

    def __init__(self, tokens: TokenStore, tls: bool) -> None:
        self.tokens, self.tls = tokens, tls
        self.bearer = HTTPBearer(auto_error=False, description="a token from `ecreteur token create`")
        self.cache: dict[str, tuple[float, Token | None]] = {}
        self._generation = tokens.generation()

    def resolve(self, secret: str) -> Token | None:
        """A valid token for ``secret``. Only valid tokens are cached, at most _TOKEN_CACHE
        of them, and the cache is emptied as soon as the token store changes (a revocation, a
        disabled account, from the CLI too): a revoked token stops working at once."""
        now, current = time.monotonic(), self.tokens.generation()
        if current != self._generation:
            self.cache.clear()
            self._generation = current
        hit = self.cache.get(secret)
        if hit is not None and now - hit[0] <= _TOKEN_CACHE_S:
            return hit[1]
        token = self.tokens.verify(secret)
        if token is None:
            self.cache.pop(secret, None)
            return None
        while len(self.cache) >= _TOKEN_CACHE:
            self.cache.pop(next(iter(self.cache)))
        self.cache[secret] = (now, token)
        return token

    def need(self, scope: Scope | None) -> Callable[..., Awaitable[Token]]:
        """A valid token with ``scope`` (None: any valid token, its role decides further)."""
        bearer = self.bearer

        async def check(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> Token:
            token = self.authenticate(request, credentials)
            if scope is not None and not token.allows(scope):
                raise HTTPException(403, f"this token lacks the {scope!r} scope")
            return token

        return check

    def authenticate(self, request: Request, credentials: HTTPAuthorizationCredentials | None) -> Token:
        """The bearer of a header, else a browser's session cookie (with the CSRF rule)."""
        if credentials is not None:
            token = self.resolve(credentials.credentials)
            if token is None:
                raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
            return token
        cookie = request.cookies.get(SESSION_COOKIE)
        token = self.resolve(cookie) if cookie else None
        if token is None:
            raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        refusal = csrf_refusal(request.method, request.headers, request.cookies, self.tls)
        if refusal is not None:
            raise HTTPException(403, refusal)
        return replace(token, via="web")


def bearer_secret(header: str) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, None without one."""
    return header[7:] if header.lower().startswith("bearer ") else None


def role_of(token: Token) -> Role:
    """The role an API token's scopes give it."""
    if token.allows("admin"):
        return Role.ADMIN
    if "engineer" in token.scopes:
        return Role.ENGINEER
    if "operate" in token.scopes:
        return Role.OPERATOR
    return Role.VIEWER
