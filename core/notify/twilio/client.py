"""The official twilio client, sent to ``api_base`` (Twilio itself in production; a validating
mock of Twilio's OpenAPI contract in tests), and what SMS and voice share.

The status callback URL carries the delivery key, so a "failed" or "undelivered" status moves
the cascade on at once. twilio's client does not retry a 429, so the cascade does (a
:class:`Transient`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from core.config.notify import Twilio
from core.notify.channels import Rejected, Transient

TWILIO_API = "https://api.twilio.com"
# twilio's client logs each request's method, URL, headers and body at INFO (about 11 lines a
# page): our own log says what was sent to whom, once
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


class _Routed(TwilioHttpClient):
    """twilio's HTTP client, sending to ``api_base`` instead of api.twilio.com."""

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API):
            url = self.api_base + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def client(twilio: Twilio, auth_token: str) -> Client:
    return Client(twilio.account_sid, auth_token, http_client=_Routed(twilio.api_base, twilio.timeout_s))


def callback(twilio: Twilio, path: str, key: str) -> str:
    return f"{twilio.public_url}{path}?d={quote(key, safe='')}"


def calling(send: Callable[[], Any]) -> str:
    """Run a twilio create call and sort its failures for the cascade."""
    try:
        instance = send()
    except TwilioRestException as err:
        if err.status == 429 or err.status >= 500:
            raise Transient(f"Twilio {err.status}: {err.msg}") from err
        raise Rejected(f"Twilio {err.status}: {err.msg}") from err
    except requests.RequestException as err:
        raise Transient(f"Twilio unreachable: {err}") from err
    return str(instance.sid)


class TwilioChannel:
    """What SMS and voice share: the account, twilio's client routed to ``api_base``, its session."""

    name = "twilio"

    def __init__(self, twilio: Twilio, auth_token: str) -> None:
        self.twilio = twilio
        self._client = client(twilio, auth_token)

    def close(self) -> None:
        session = self._client.http_client.session
        if session is not None:
            session.close()
