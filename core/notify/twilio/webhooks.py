"""Twilio's callbacks to the server: where they come (paths) and whether Twilio signed them."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from core.config.notify import Twilio

STATUS_PATH = "/api/v1/twilio/status"
SMS_PATH = "/api/v1/twilio/sms"
VOICE_PATH = "/api/v1/twilio/voice"


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
