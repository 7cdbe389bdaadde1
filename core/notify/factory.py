"""Builds the channels from ``notify:`` with their secrets (and the plugins' channels), and the
webhook checker.

A missing secret disables its channel with one clear log line instead of stopping supervision:
the cascade then pages by the channels that remain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from core.config.base import SecretRef
from core.config.notify import BuiltIn, Notify, PluginChannel
from core.config.secrets import SecretMissing, resolve
from core.notify.channels import Channel, ChannelDown, Outbound, Rejected, Transient
from core.notify.email import EmailChannel
from core.notify.twilio.sms import SmsChannel
from core.notify.twilio.voice import VoiceChannel
from core.notify.twilio.webhooks import Webhooks
from core.plugins import CHANNELS, PluginUnavailable, describe, load

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
            accounts.channels[BuiltIn.EMAIL] = EmailChannel(notify.smtp, password)
        except SecretMissing as err:
            _LOGGER.error("e-mail paging disabled: %s", err)
    if notify.twilio is not None:
        try:
            token = resolve(notify.twilio.auth_token)
        except SecretMissing as err:
            _LOGGER.error("SMS and voice paging disabled: %s", err)
        else:
            accounts.channels[BuiltIn.SMS] = SmsChannel(notify.twilio, token)
            accounts.channels[BuiltIn.VOICE] = VoiceChannel(notify.twilio, token)
            accounts.webhooks = Webhooks(notify.twilio, token)
    for declared in notify.channels:
        channel = plugin_channel(declared)
        if channel is not None:
            accounts.channels[declared.id] = channel
    return accounts


def plugin_channel(declared: PluginChannel) -> Channel | None:
    """The plugin's channel, guarded; None (said in the log) when it cannot be had."""
    try:
        settings = {k: resolve(v) if isinstance(v, SecretRef) else v for k, v in declared.settings.items()}
        create = load(CHANNELS, declared.plugin)
        return Guarded(create(declared.id, settings), describe(CHANNELS, declared.plugin))
    except SecretMissing as err:
        _LOGGER.error("channel %s disabled: %s", declared.id, err)
    except PluginUnavailable as err:
        _LOGGER.error("channel %s disabled: %s", declared.id, err)
    except Exception:  # the plugin's own constructor raised
        _LOGGER.exception("channel %s disabled: %s raised", declared.id, describe(CHANNELS, declared.plugin))
    return None


class Guarded:
    """A plugin's channel whose bugs stay its own: an unexpected exception fails that one delivery
    (the cascade moves on to the next channel) and the log names the plugin."""

    def __init__(self, channel: Channel, described: str) -> None:
        self.channel, self.described = channel, described
        self.name = channel.name

    def deliver(self, message: Outbound) -> str:
        try:
            return str(self.channel.deliver(message))
        except (Transient, ChannelDown, Rejected):
            raise
        except Exception as err:
            _LOGGER.exception("%s raised while delivering %s", self.described, message.key)
            raise Rejected(f"{self.described} raised {type(err).__name__}: {err}") from err

    def close(self) -> None:
        try:
            self.channel.close()
        except Exception:
            _LOGGER.exception("%s raised while closing", self.described)
