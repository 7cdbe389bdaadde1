"""What a channel is asked to send, and how it says it failed.

Channels are blocking calls run on a worker pool: a provider that hangs holds one worker for at
most its timeout, never the supervision loop. The failure class decides what the cascade does:
retry later (:class:`Transient`), skip the channel at once and for a while (:class:`ChannelDown`),
or give up on this delivery and go on to the next channel (:class:`Rejected`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to one person on one channel."""

    key: str  # the delivery's deduplication key, echoed back by status callbacks
    to: str  # phone number or e-mail address
    language: str
    subject: str
    text: str  # SMS body, e-mail body or the sentence a call speaks
    gather: bool = False  # a call asks for a key press to acknowledge


class Transient(Exception):
    """Worth retrying after a pause: 429, 5xx, a temporary SMTP refusal, a dropped connection."""


class ChannelDown(Exception):
    """The provider cannot be reached: fall back now and skip the channel for a while."""


class Rejected(Exception):
    """This message will never go through as it is (bad number, refused recipient, bad request)."""


class Channel(Protocol):
    name: str

    def deliver(self, message: Outbound) -> str:
        """Send ``message``; return the provider's id for it, or raise one of the errors above."""
        ...

    def close(self) -> None:
        """Release connections and threads; called once when the cascade stops."""
        ...
