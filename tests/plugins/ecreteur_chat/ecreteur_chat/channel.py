"""Pages posted to a chat tool's incoming webhook, signed so that the receiver can trust them.

The body is JSON (``to``, ``subject``, ``text``, ``key``, ``language``); the headers carry
``X-Ecreteur-Timestamp`` and ``X-Ecreteur-Signature: sha256=HMAC(secret, timestamp + "." + body)``,
as Slack and GitHub sign theirs, so that a replayed or forged page is refused by the receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from core.notify.channels import ChannelDown, Outbound, Rejected, Transient


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class SignedWebhook:
    def __init__(self, name: str, url: str, secret: str, timeout_s: float = 10.0) -> None:
        self.name, self.url, self.secret, self.timeout_s = name, url, secret, timeout_s

    def deliver(self, message: Outbound) -> str:
        body = json.dumps({"to": message.to, "subject": message.subject, "text": message.text,
                           "key": message.key, "language": message.language}).encode()  # fmt: skip
        timestamp = str(int(time.time()))
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "X-Ecreteur-Timestamp": timestamp,
            "X-Ecreteur-Signature": sign(self.secret, timestamp, body),
        })  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                return answer.headers.get("X-Message-Id") or f"{self.name}:{message.key}"
        except urllib.error.HTTPError as err:
            if err.code == 429 or err.code >= 500:
                raise Transient(f"the chat answered {err.code}") from err
            raise Rejected(f"the chat refused the page: {err.code} {err.reason}") from err
        except (urllib.error.URLError, OSError) as err:
            raise ChannelDown(f"the chat cannot be reached: {err}") from err

    def close(self) -> None:
        pass


def create(channel_id: str, settings: Mapping[str, Any]) -> SignedWebhook:
    """The entry point: ``settings`` holds ``url`` and ``secret`` (its ``!secret`` already read)."""
    return SignedWebhook(channel_id, str(settings["url"]), str(settings["secret"]),
                         float(settings.get("timeout_s", 10.0)))  # fmt: skip
