"""SMS pages with the official twilio client, and the checks on Twilio's webhooks.

With ``voice.py`` the only twilio importer. Requests go to ``api_base`` (Twilio itself in
production; a validating mock of Twilio's OpenAPI contract in tests). The status callback URL
carries the delivery key, so a "failed" or "undelivered" status moves the cascade on at once.
twilio's client does not retry a 429, so the cascade does (a :class:`Transient`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from core.config.notify import Twilio
from core.notify.channels import Outbound, Rejected, Transient

TWILIO_API = "https://api.twilio.com"
STATUS_PATH = "/api/v1/twilio/status"
SMS_PATH = "/api/v1/twilio/sms"
VOICE_PATH = "/api/v1/twilio/voice"
_REPLY = re.compile(r"^\s*(?:OK|ACK)\s*#?\s*(\d+)\s*$", re.IGNORECASE)


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


def calling(send: Any) -> str:
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


class SmsChannel(TwilioChannel):
    name = "sms"

    def deliver(self, message: Outbound) -> str:
        return calling(
            lambda: self._client.messages.create(
                to=message.to,
                from_=self.twilio.from_number,
                body=message.text,
                status_callback=callback(self.twilio, STATUS_PATH, message.key),
            )
        )


class Webhooks:
    """Authenticates Twilio's callbacks (``X-Twilio-Signature``) and reads what they say."""

    def __init__(self, twilio: Twilio, auth_token: str) -> None:
        self.public_url = twilio.public_url
        self._validator = RequestValidator(auth_token)

    def authentic(self, path_and_query: str, params: dict[str, str], signature: str) -> bool:
        """Whether Twilio signed this request: the URL it called, as the public sees it."""
        return bool(signature) and self._validator.validate(
            self.public_url + path_and_query, params, signature
        )


def parse_reply(body: str) -> int | None:
    """The incident code in an SMS reply such as ``OK 12`` or ``ack #12``; None otherwise."""
    match = _REPLY.match(body)
    return int(match.group(1)) if match else None


def reply_twiml(text: str) -> str:
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
