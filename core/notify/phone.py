"""The phone's side of paging, as the faces see it: a delivery status, an SMS reply (``OK 12``),
a key press during a call, a confirmed incident link; and what to answer.

The web routes (``core.api.webhooks``, ``core.api.links``) take this narrow surface, not the
cascade that implements it: a face never reaches into the escalation engine. ``PhoneDesk``
turns an answer into an acknowledgement of the incident's alarms through the operations
surface, like an operator's, and says so in the person's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core import words
from core.clock import Clock
from core.config.notify import Person
from core.notify.follower import TAKEABLE
from core.notify.outbox import Outbox
from core.notify.roster import OnCall
from core.notify.store import DELIVERED, DONE_BADLY, FAILED, OPEN, SENT, UNKNOWN, Incident, PagingStore
from core.notify.twilio.replies import parse_reply


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


# Twilio statuses that mean the message or the call did not reach the person
_FAILED_STATUSES = {"failed", "undelivered", "busy", "no-answer", "canceled"}
_REACHED_STATUSES = {"delivered", "read", "completed", "answered"}


class PhoneDesk:
    """The ``Phone`` surface of the cascade: statuses, replies, key presses, confirmed links."""

    def __init__(
        self,
        language: str,
        oncall: OnCall,
        outbox: Outbox,
        acknowledge: Callable[[str, str, str], bool],
        taken: Callable[[Incident, str, datetime], None],
        moved: Callable[[], None],
        escalate: Callable[[Incident, str], str | None],
    ) -> None:
        """``acknowledge(alarm, user, comment)`` is the operations surface's; ``taken`` is told
        when the engine had nothing left to acknowledge (the alarms returned meanwhile);
        ``moved()`` sends what a failed delivery makes due; ``escalate(incident, by)`` pages the
        next level now (None) or says why not (a ``reply`` word)."""
        self.language, self.oncall, self.outbox = language, oncall, outbox
        self.store: PagingStore = outbox.store
        self.clock: Clock = outbox.clock
        self._acknowledge, self._taken, self._moved, self._escalate = acknowledge, taken, moved, escalate

    def on_status(self, key: str, status: str, detail: str = "") -> bool:
        """A delivery status callback; a failure moves the cascade on at once."""
        delivery = self.store.delivery(key)
        if delivery is None:
            return False
        now = self.clock.now()
        if status in _FAILED_STATUSES and delivery.state not in DONE_BADLY:
            self.outbox.settle(delivery, FAILED, f"{status} {detail}".strip(), now)
            self._moved()
        elif status in _REACHED_STATUSES and delivery.state in (SENT, UNKNOWN):
            self.outbox.settle(delivery, DELIVERED, status, now)
        else:
            self.store.attempt(key, now, status, detail)
        return True

    def first_time(self, token: str) -> bool:
        return self.store.first_time(token, self.clock.now())

    def now(self) -> datetime:
        return self.clock.now()

    async def settled(self) -> None:
        """What this server decided is in the site's record: called before an acknowledgement
        is answered, so that no server sends a page after it."""
        await self.store.settled()

    def on_reply(self, phone: str, body: str) -> Reply:
        """An SMS reply such as ``OK 12`` from a person of the roster."""
        person = self.oncall.person_by_phone(phone)
        language = person.language if person else self.language
        if person is None:
            return Reply(words.say("reply.unknown_number", language), language, False)
        code = parse_reply(body)
        if code is None:
            return Reply(words.say("reply.how", language), language, False)
        return self._acknowledged(self.store.incident(code), person, "SMS")

    def on_keypress(self, key: str, digits: str) -> Reply:
        """A key pressed during a voice page; 1 acknowledges."""
        delivery = self.store.delivery(key)
        person = self.oncall.people.get(delivery.person) if delivery else None
        if delivery is None or person is None:
            return Reply("", self.language, False)
        if digits.strip() != "1":
            return Reply("", person.language, False)
        return self._acknowledged(self.store.incident(delivery.incident), person, "appel")

    def acknowledge_by_link(self, incident_id: int, person_id: str) -> Reply:
        """The person paged confirmed on their incident link (``core.notify.links``)."""
        person = self.oncall.people.get(person_id)
        if person is None:
            return self._unknown_person()
        return self._acknowledged(self.store.incident(incident_id), person, "lien web")

    def escalate_by_link(self, incident_id: int, person_id: str) -> Reply:
        """The person paged cannot take it, from their incident link: the next level now."""
        person = self.oncall.people.get(person_id)
        if person is None:
            return self._unknown_person()
        incident = self.store.incident(incident_id)
        if incident is None:
            return self._said("reply.unknown_alarm", person.language)
        handled = self._handled(incident, person.language, (OPEN,))
        if handled is not None:
            return handled
        why = self._escalate(incident, person.name)
        said = words.say(why or "reply.escalated", person.language, code=incident.code)
        return Reply(said, person.language, why is None)

    def _acknowledged(self, incident: Incident | None, person: Person, via: str) -> Reply:
        language = person.language
        if incident is None:
            return self._said("reply.unknown_alarm", language)
        handled = self._handled(incident, language, TAKEABLE)
        if handled is not None:
            return handled
        for paged in self.store.alarms(incident.id):
            self._acknowledge(paged.alarm, person.name, f"{via} OK {incident.code}")
        current = self.store.incident(incident.id)
        if current is not None and current.state in TAKEABLE:  # nothing left to acknowledge in the engine
            self._taken(current, person.name, self.clock.now())
        return Reply(words.say("reply.acknowledged", language, code=incident.code), language, True)

    def _handled(self, incident: Incident, language: str, states: tuple[str, ...]) -> Reply | None:
        """Who handled ``incident`` already (or that it is back to normal), unless it is in ``states``."""
        if incident.state in states:
            return None
        who = incident.acked_by or words.say("reply.back_to_normal", language)
        return self._said("reply.already_handled", language, code=incident.code, who=who)

    def _said(self, key: str, language: str, **fields: object) -> Reply:
        """A refusal: ``key`` said in ``language``, nothing acknowledged."""
        return Reply(words.say(key, language, **fields), language, False)

    def _unknown_person(self) -> Reply:
        return self._said("reply.unknown_person", self.language)
