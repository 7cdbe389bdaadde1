"""Incident links: the short address in a page that lets the person paged act without signing in.

A link carries a signed token naming one incident and one person, with its expiry and a random
nonce; the server keeps no table of links. HMAC-SHA256 over those fields with the site's link
key (truncated to 96 bits: forging one is still out of reach) makes a token that names another
incident, another person or a later expiry worthless. A link only shows its incident until
someone confirms; the confirmation is what uses it (an SMS app that previews the address does
not), once: the nonce is recorded in the paging store, shared by redundant servers. Expired,
used or altered, a link is refused with the reason, and the refusal is audited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

_MAC = 12  # bytes of the HMAC kept
_NONCE = 6
_HEAD = struct.Struct(">II")  # incident id, expiry (POSIX seconds)
PATH = "/i/"


class LinkRefused(ValueError):
    """An altered, expired or already used link; the message says which, for the person."""


@dataclass(frozen=True, slots=True)
class Claim:
    """What a valid token says: who may act on which incident, until when."""

    incident: int
    person: str
    expires: datetime
    nonce: str  # recorded when the link is used, so that it is used once


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class IncidentLinks:
    def __init__(self, key: bytes, public_url: str, valid: timedelta) -> None:
        if len(key) < 16:
            raise ValueError("the link key needs at least 16 bytes")
        self.key, self.public_url, self.valid = key, public_url.rstrip("/"), valid

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self.key, body, hashlib.sha256).digest()[:_MAC]

    def token(self, incident: int, person: str, now: datetime) -> str:
        expires = int((now + self.valid).timestamp())
        body = _HEAD.pack(incident, expires) + secrets.token_bytes(_NONCE) + person.encode()
        return _b64(body + self._mac(body))

    def url(self, incident: int, person: str, now: datetime) -> str:
        return self.public_url + PATH + self.token(incident, person, now)

    def read(self, token: str, now: datetime) -> Claim:
        """The claim of a genuine, unexpired token; :class:`LinkRefused` otherwise."""
        try:
            raw = _unb64(token)
        except (ValueError, TypeError):
            raise LinkRefused("this link is not valid") from None
        if len(raw) <= _HEAD.size + _NONCE + _MAC:
            raise LinkRefused("this link is not valid")
        body, mac = raw[:-_MAC], raw[-_MAC:]
        if not hmac.compare_digest(mac, self._mac(body)):
            raise LinkRefused("this link is not valid")
        incident, expires = _HEAD.unpack_from(body)
        nonce = body[_HEAD.size : _HEAD.size + _NONCE].hex()
        person = body[_HEAD.size + _NONCE :].decode("utf-8", "replace")
        ends = datetime.fromtimestamp(expires, UTC)
        if now >= ends:
            raise LinkRefused(f"this link expired at {ends.isoformat(timespec='minutes')}")
        return Claim(incident, person, ends, nonce)


def link_key(path: Path) -> bytes:
    """The site's link key from ``path``, created (32 random bytes, mode 0600) on first use.
    Redundant servers share one by naming the same secret in ``api.links.secret`` instead."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key)
        return key
