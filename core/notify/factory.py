"""Builds the channels from ``notify:`` with their secrets, and the webhook checker.

A missing secret disables its channel with one clear log line instead of stopping supervision:
the cascade then pages by the channels that remain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from core.config.notify import Notify
from core.config.secrets import SecretMissing, resolve
from core.notify.channels import Channel
from core.notify.email import EmailChannel
from core.notify.sms import SmsChannel, Webhooks
from core.notify.voice import VoiceChannel

_LOGGER = logging.getLogger(__name__)


@dataclass
class Accounts:
    channels: dict[str, Channel] = field(default_factory=dict)
    webhooks: Webhooks | None = None


def build(notify: Notify) -> Accounts:
    accounts = Accounts()
    if notify.smtp is not None:
        try:
            password = resolve(notify.smtp.password) if notify.smtp.password else None
            accounts.channels["email"] = EmailChannel(notify.smtp, password)
        except SecretMissing as err:
            _LOGGER.error("e-mail paging disabled: %s", err)
    if notify.twilio is not None:
        try:
            token = resolve(notify.twilio.auth_token)
        except SecretMissing as err:
            _LOGGER.error("SMS and voice paging disabled: %s", err)
        else:
            accounts.channels["sms"] = SmsChannel(notify.twilio, token)
            accounts.channels["voice"] = VoiceChannel(notify.twilio, token)
            accounts.webhooks = Webhooks(notify.twilio, token)
    return accounts
