"""The phone's side of paging, as the faces see it: a delivery status, an SMS reply (``OK 12``),
a key press during a call, a confirmed incident link; and what to answer.

The web routes (``core.api.webhooks``, ``core.api.links``) take this narrow surface, not the
cascade that implements it: a face never reaches into the escalation engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer an SMS reply or a key press, and whether it acknowledged."""

    text: str
    language: str
    acknowledged: bool


class Phone(Protocol):
    def on_status(self, key: str, status: str, detail: str = "") -> bool:
        """A delivery status callback; False when the delivery is not known."""

    def on_reply(self, phone: str, body: str) -> Reply:
        """An SMS reply from a person of the roster."""

    def on_keypress(self, key: str, digits: str) -> Reply:
        """A key pressed during a voice page; 1 acknowledges."""

    def acknowledge_by_link(self, incident_id: int, person_id: str) -> Reply:
        """The person paged confirmed on their incident link."""

    def first_time(self, token: str) -> bool:
        """A webhook (or a link) not seen before: Twilio retries what it thinks failed."""

    def now(self) -> datetime: ...

    async def settled(self) -> None:
        """Return once an acknowledgement just accepted is where every server reads it."""
