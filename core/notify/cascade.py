"""The escalation cascade: page the right people, level after level, until someone acknowledges.

An alarm that a route sends to a policy opens an *incident* (or joins one opened less than
``group_window_s`` ago, so a flood of alarms makes one page). The policy's levels are walked in
time: at each level every target gets the first channel at once, the next channel
``channel_step_min`` later, and the next level starts ``delay_min`` after this one; the whole
list repeats ``repeat`` times. A failed channel (refused, unreachable, or reported failed by a
status callback) hands over to the next one at once.

Everything stops when one of the incident's alarms is acknowledged or shelved, from any source;
the people already paged are then told who did it. When every alarm of the incident has cleared,
they are told it is back to normal and paging stops.

The schedule is recomputed from the durable store on every tick (what is due now, when to wake
next), so a restart resumes at the right level at the right time. A delivery row is written
before the provider is called: a message is never sent twice.

Why one file: the escalation is one state machine over the durable store: alarm events, the
schedule, the deliveries' outcomes and the phone's acknowledgements all move the same incidents;
the words (messages.py), the roster, the channels and the store are apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from core import words
from core.bus import ALARMS, Bus
from core.clock import Clock, Timer, pause
from core.config.notify import BUILT_IN_CHANNELS, BuiltIn, Escalation, Level, Person, Policy
from core.config.schema import SiteConfig, matching
from core.model import AlarmAction, AlarmEvent, Situation
from core.notify import gsm, messages
from core.notify.channels import Channel, ChannelDown, Outbound, Rejected, Transient
from core.notify.links import IncidentLinks
from core.notify.phone import Reply
from core.notify.roster import OnCall
from core.notify.store import (
    ACKED,
    CANCELLED,
    CLEARED,
    DELIVERED,
    DONE_BADLY,
    EXHAUSTED,
    FAILED,
    OPEN,
    REACHED,
    RETRY,
    SENDING,
    SENT,
    SKIPPED,
    UNKNOWN,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Incident,
    PagingStore,
)
from core.notify.twilio.replies import parse_reply

_LOGGER = logging.getLogger(__name__)

# alarm events that mean an operator has taken charge
_TAKEN = {
    AlarmAction.ACKNOWLEDGED: "",
    AlarmAction.SHELVED: " (shelved)",
    AlarmAction.REMOVED: " (out of service)",
}
# Twilio statuses that mean the message or the call did not reach the person
_FAILED_STATUSES = {"failed", "undelivered", "busy", "no-answer", "canceled"}
_REACHED_STATUSES = {"delivered", "read", "completed", "answered"}
_NOTICE_CHANNELS = (BuiltIn.SMS, BuiltIn.EMAIL)
# incidents a person can still take charge of: paging, or paged to the end with nobody answering
_TAKEABLE = (OPEN, EXHAUSTED)
_LATE_AFTER = timedelta(seconds=1)  # a page sent this long after its time says how late it is
_SYNC_S = 2.0  # how often redundant servers look at each other's rows in the shared store

Situations = Callable[[str], Situation | None]  # a tag's present (value, trend, crest)


class Cascade:
    def __init__(
        self,
        config: SiteConfig,
        bus: Bus,
        clock: Clock,
        store: PagingStore,
        channels: Mapping[str, Channel],
        acknowledge: Callable[[str, str, str], bool],
        situation: Situations | None = None,
        leading: Callable[[], bool] | None = None,
    ) -> None:
        """``leading()`` says whether this server may page now (the leader lease of redundant
        servers, ``core.storage.lease``). A follower opens no incident and sends nothing: it
        keeps the alarms it saw raised, copies the leader's incidents from a shared store
        (a shared ``PagingStore``), and takes over from there when ``resume()`` is called."""
        if config.escalation is None or config.roster is None:
            raise ValueError("the cascade needs `roster` and `escalation` in the site config")
        self.config = config
        self.escalation: Escalation = config.escalation
        self.bus, self.clock, self.store = bus, clock, store
        self.channels = dict(channels)
        self.oncall = OnCall(config.roster)
        self.policies = {policy.id: policy for policy in self.escalation.policies}
        self._acknowledge = acknowledge
        self._situation = situation
        self._leading = leading or (lambda: True)
        self._timer: Timer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._down_until: dict[str, datetime] = {}
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="notify")
        self._unsubscribe: Callable[[], None] | None = None
        self._unpaged: dict[str, tuple[AlarmEvent, datetime]] = {}  # raised while following
        self._catching_up = False
        self._sync: asyncio.Task[None] | None = None
        self._inflight: set[str] = set()  # delivery keys being sent by this process
        self.links: IncidentLinks | None = None  # set by a server that serves the incident pages

    # life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the store, settle what a crash interrupted, listen to alarms, resume the schedule."""
        self.store.open()
        self._unsubscribe = self.bus.subscribe(ALARMS, self.on_alarm)
        await self.store.start()
        if self.store.redundant:
            self._sync = asyncio.create_task(self._syncing(), name="paging-sync")
            if self._leading():
                await self._catch_up()
            return
        self._recover()
        self._tick()

    def _recover(self) -> None:
        """Settle what a crash (of this server or of the leader it replaces) interrupted."""
        now = self.clock.now()
        for delivery in self.store.deliveries(None, SENDING):
            if delivery.key not in self._inflight:
                self._settle(delivery, UNKNOWN, "interrupted by a restart; not sent again", now)
        for delivery in self.store.deliveries(None, RETRY):
            if delivery.key not in self._inflight:
                self._spawn(delivery)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._timer is not None:
            self._timer.cancel()
        if self._sync is not None:
            self._sync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync
        if self._tasks:  # let requests in flight finish briefly, so their outcome is recorded
            _done, pending = await asyncio.wait(self._tasks, timeout=5.0)
            for task in pending:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*pending, return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)
        for channel in self.channels.values():
            channel.close()
        await self.store.stop()
        self.store.close()

    # alarm events ---------------------------------------------------------------------------
    def on_alarm(self, event: AlarmEvent) -> None:
        if not self._leading():
            self._follow(event)
            return
        if event.action == AlarmAction.RAISED:
            self._raised(event)
        elif event.action in _TAKEN:
            # an exhausted incident (nobody answered) is still taken: everyone paged is told
            for incident in self.store.incidents_of(event.alarm, *_TAKEABLE):
                self._taken(incident, (event.user or "?") + _TAKEN[event.action], event.ts)
        elif event.action == AlarmAction.RETURNED or (
            event.action == AlarmAction.ACKNOWLEDGED and not event.active
        ):
            for incident in self.store.incidents_of(event.alarm, OPEN, ACKED):
                self.store.set_alarm_active(incident.id, event.alarm, False)
                if not any(paged.active for paged in self.store.alarms(incident.id)):
                    self._cleared(incident, event.ts)

    def _follow(self, event: AlarmEvent) -> None:
        """A follower keeps what it would page, and passes acknowledgements to the leader."""
        if event.action == AlarmAction.RAISED:
            if self.route(event) is not None:
                self._unpaged[event.alarm] = (event, self.clock.now())
            return
        if event.action in _TAKEN or event.action == AlarmAction.RETURNED or not event.active:
            self._unpaged.pop(event.alarm, None)
        if event.action in _TAKEN:
            for incident in self.store.incidents_of(event.alarm, *_TAKEABLE):
                self.store.acknowledge(incident, (event.user or "?") + _TAKEN[event.action], event.ts)

    def route(self, event: AlarmEvent) -> Policy | None:
        """The policy of the first route the alarm matches."""
        tag = self.config.tag(event.tag)
        station = tag.station if tag else event.tag.split(".", 1)[0]
        for route in self.escalation.routes:
            if route.priorities and event.priority.name.lower() not in route.priorities:
                continue
            if route.stations and station not in route.stations:
                continue
            if route.tags and not matching(route.tags, [event.tag]):
                continue
            return self.policies[route.policy]
        return None

    def _raised(self, event: AlarmEvent, seen: datetime | None = None) -> None:
        """Open an incident for ``event`` (or join one), as of ``seen``: when a follower saw an
        alarm that nobody paged, its escalation runs from then, late levels paged at once."""
        policy = self.route(event)
        if policy is None:
            return
        now = seen or self.clock.now()
        window = timedelta(seconds=self.escalation.group_window_s)
        joined = [
            i for i in self.store.incidents(OPEN) if i.policy == policy.id and now - i.opened_at <= window
        ]
        incident = joined[-1] if joined else self.store.open_incident(policy.id, now)
        self.store.add_alarm(incident.id, event)
        _LOGGER.info(
            "alarm %s %s incident %s (policy %s)",
            event.alarm,
            "joins" if joined else "opens",
            incident.code,
            policy.id,
        )
        self._tick()

    def _taken(self, incident: Incident, user: str, at: datetime) -> None:
        if not self._leading():  # the leader tells the people paged
            self.store.acknowledge(incident, user, at)
            _LOGGER.info("incident %s acknowledged by %s, passed to the leader", incident.code, user)
            return
        incident.state, incident.acked_by, incident.acked_at = ACKED, user, at
        self.store.save(incident)
        _LOGGER.info("incident %s acknowledged by %s: paging stops", incident.code, user)
        self._notify(incident, DeliveryKind.ACK, user)
        self._tick()

    def _cleared(self, incident: Incident, at: datetime) -> None:
        incident.state, incident.closed_at = CLEARED, at
        self.store.save(incident)
        _LOGGER.info("incident %s back to normal", incident.code)
        self._notify(incident, DeliveryKind.CLEAR, None)
        self._tick()

    # acknowledgement from a phone --------------------------------------------------------------
    def on_reply(self, phone: str, body: str) -> Reply:
        """An SMS reply such as ``OK 12`` from a person of the roster."""
        person = self.oncall.person_by_phone(phone)
        language = person.language if person else self.config.site.language
        if person is None:
            return Reply(words.say("reply.unknown_number", language), language, False)
        code = parse_reply(body)
        if code is None:
            return Reply(words.say("reply.how", language), language, False)
        return self._phone_ack(self.store.incident(code), person, "SMS")

    def on_keypress(self, key: str, digits: str) -> Reply:
        """A key pressed during a voice page; 1 acknowledges."""
        delivery = self.store.delivery(key)
        person = self.oncall.people.get(delivery.person) if delivery else None
        if delivery is None or person is None:
            return Reply("", self.config.site.language, False)
        if digits.strip() != "1":
            return Reply("", person.language, False)
        return self._phone_ack(self.store.incident(delivery.incident), person, "appel")

    def _phone_ack(self, incident: Incident | None, person: Person, via: str) -> Reply:
        language = person.language
        if incident is None:
            return Reply(words.say("reply.unknown_alarm", language), language, False)
        if incident.state not in _TAKEABLE:
            who = incident.acked_by or words.say("reply.back_to_normal", language)
            return Reply(
                words.say("reply.already_handled", language, code=incident.code, who=who), language, False
            )
        for paged in self.store.alarms(incident.id):
            self._acknowledge(paged.alarm, person.name, f"{via} OK {incident.code}")
        current = self.store.incident(incident.id)
        if current is not None and current.state in _TAKEABLE:  # nothing left to acknowledge in the engine
            self._taken(current, person.name, self.clock.now())
        return Reply(words.say("reply.acknowledged", language, code=incident.code), language, True)

    def acknowledge_by_link(self, incident_id: int, person_id: str) -> Reply:
        """The person paged confirmed on their incident link (``core.notify.links``)."""
        person = self.oncall.people.get(person_id)
        if person is None:
            language = self.config.site.language
            return Reply(words.say("reply.unknown_person", language), language, False)
        return self._phone_ack(self.store.incident(incident_id), person, "lien web")

    def on_status(self, key: str, status: str, detail: str = "") -> bool:
        """A delivery status callback; a failure moves the cascade on at once."""
        delivery = self.store.delivery(key)
        if delivery is None:
            return False
        now = self.clock.now()
        if status in _FAILED_STATUSES and delivery.state not in DONE_BADLY:
            self._settle(delivery, FAILED, f"{status} {detail}".strip(), now)
            self._tick()
        elif status in _REACHED_STATUSES and delivery.state in (SENT, UNKNOWN):
            self._settle(delivery, DELIVERED, status, now)
        else:
            self.store.attempt(key, now, status, detail)
        return True

    # the schedule -----------------------------------------------------------------------------
    def resume(self) -> None:
        """This server became the leader: catch up with the shared store, then send what is due."""
        if self.store.redundant:
            self._catching_up = True
            task = asyncio.get_running_loop().create_task(self._catch_up(), name="paging-catch-up")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self._page_unpaged()
        self._tick()

    async def _catch_up(self) -> None:
        """Copy where the old leader stopped, then page, never twice, what nobody paged."""
        self._catching_up = True
        try:
            changed = await self.store.pull()
            carried = len(self.store.incidents(OPEN))
            _LOGGER.warning("leading: %d open incident(s) carried on from the shared store (%d rows newer "
                            "than this server's copy)", carried, changed)  # fmt: skip
        except Exception as err:  # Cassandra away: page from what this server knows
            _LOGGER.error("leading without the shared store's latest rows (%s)", err)
        finally:
            self._catching_up = False
        if self._leading():
            self._recover()
            self._page_unpaged()
            self._tick()

    def _page_unpaged(self) -> None:
        """Alarms this server saw raised while following and no incident holds."""
        unpaged, self._unpaged = self._unpaged, {}
        for alarm, (event, seen) in unpaged.items():
            if not self.store.incidents_of(alarm, OPEN, ACKED):
                self._raised(event, seen)

    async def _syncing(self) -> None:
        """Redundant servers: a follower copies the leader's rows; the leader takes the
        acknowledgements that reached a follower."""
        while True:
            await pause(self.clock, _SYNC_S, real=True)
            try:
                if self._catching_up:
                    continue
                if self._leading():
                    await self._take_acknowledgements()
                else:
                    await self._copy_leader()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                _LOGGER.warning("paging store: sync with the other servers postponed (%s)", err)

    async def _copy_leader(self) -> None:
        was_open = {i.id for i in self.store.incidents(OPEN)}
        await self.store.pull()
        for incident in self.store.incidents(ACKED):
            if incident.id in was_open:  # acknowledged at the leader: in this server's list too
                self._acknowledge_alarms(incident, incident.acked_by or "?")
        for alarm in [a for a in self._unpaged if self.store.incidents_of(a, OPEN, ACKED)]:
            del self._unpaged[alarm]  # the leader has it

    async def _take_acknowledgements(self) -> None:
        for theirs in await self.store.taken_elsewhere():
            mine = self.store.incident(theirs.id)
            if mine is None or mine.state not in _TAKEABLE or not self._leading():
                continue
            self._taken(mine, theirs.acked_by or "?", theirs.acked_at or self.clock.now())
            self._acknowledge_alarms(mine, theirs.acked_by or "?")

    def _acknowledge_alarms(self, incident: Incident, by: str) -> None:
        for paged in self.store.alarms(incident.id):
            self._acknowledge(paged.alarm, by, f"OK {incident.code} (on another server)")

    def _tick(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._leading() or self._catching_up:
            return  # a follower: the leader pages; resume() when this server takes over
        now = self.clock.now()
        wakes = [wake for incident in self.store.incidents(OPEN) if (wake := self._advance(incident, now))]
        if wakes:
            delay = (min(wakes) - now).total_seconds()
            self._timer = self.clock.call_later(max(delay, 0.0), self._tick)

    def _advance(self, incident: Incident, now: datetime) -> datetime | None:
        """Send what is due for ``incident`` and say when it next needs attention."""
        policy = self.policies.get(incident.policy)
        if policy is None:
            _LOGGER.error("incident %s: policy %r is no longer configured", incident.code, incident.policy)
            self._next_level(incident, None, now)
            return None
        paged_late = False
        while incident.state == OPEN:
            level = policy.levels[incident.level]
            end = incident.level_at + timedelta(minutes=level.delay_min)
            if now >= end:
                # a level whose time passed while nobody could send (a stall, a restart, a
                # failover) is paged now, marked late: never skipped
                paged_late = self._page_late(incident, level, now) or paged_late
                if paged_late and self._last_level(incident, policy):
                    # the people just paged get the level's full time to answer
                    incident.level_at = now
                    self.store.save(incident)
                    continue
                self._next_level(incident, policy, end)
                continue
            wake, exhausted = self._page_level(incident, level, now)
            if exhausted:
                _LOGGER.warning(
                    "incident %s: nobody reachable at level %d, moving on", incident.code, incident.level + 1
                )
                self._next_level(incident, policy, now)
                continue
            return min(wake, end) if wake else end
        return None

    @staticmethod
    def _last_level(incident: Incident, policy: Policy) -> bool:
        return incident.level + 1 >= len(policy.levels) and incident.cycle + 1 >= policy.repeat

    def _page_late(self, incident: Incident, level: Level, now: datetime) -> bool:
        """Send, in order and marked late, every channel that fell due in the level's time
        while nobody could send (a stall, a restart, a failover): none is skipped."""
        step, end = (
            timedelta(minutes=level.channel_step_min),
            incident.level_at + timedelta(minutes=level.delay_min),
        )
        sent = False
        for person in self._targets(level, incident.level_at):
            due = incident.level_at
            for k, channel in enumerate(c for c in level.channels if self._reachable(person, c)):
                key = f"{incident.id}:page:{incident.cycle}:{incident.level}:{person.id}:{channel}"
                delivery = self.store.delivery(key)
                if delivery is None:
                    if due >= end:
                        break  # its time was in the next level's
                    _LOGGER.warning("incident %s: level %d: %s paged by %s %s late", incident.code,
                                    incident.level + 1, person.id, channel, now - due)  # fmt: skip
                    delivery = self._dispatch(incident, person, channel, key, DeliveryKind.PAGE, now,
                                              late=now - due)  # fmt: skip
                    sent = True
                planned = incident.level_at + step * (k + 1)
                failed = delivery is not None and delivery.state in DONE_BADLY
                due = min(planned, delivery.updated_at) if failed and delivery is not None else planned
        return sent

    def _next_level(self, incident: Incident, policy: Policy | None, at: datetime) -> None:
        if policy is not None and incident.level + 1 < len(policy.levels):
            incident.level += 1
        elif policy is not None and incident.cycle + 1 < policy.repeat:
            incident.level, incident.cycle = 0, incident.cycle + 1
        else:
            incident.state, incident.closed_at = EXHAUSTED, at
            _LOGGER.error("incident %s: escalation exhausted, nobody acknowledged", incident.code)
        incident.level_at = at
        self.store.save(incident)

    def _page_level(self, incident: Incident, level: Level, now: datetime) -> tuple[datetime | None, bool]:
        """Dispatch the level's due pages; return the next due time and whether all failed."""
        step = timedelta(minutes=level.channel_step_min)
        wake: datetime | None = None
        exhausted = True
        for person in self._targets(level, incident.level_at):
            due = incident.level_at
            for k, channel in enumerate(c for c in level.channels if self._reachable(person, c)):
                key = f"{incident.id}:page:{incident.cycle}:{incident.level}:{person.id}:{channel}"
                delivery = self.store.delivery(key)
                if delivery is None and due > now:
                    exhausted, wake = False, due if wake is None else min(wake, due)
                    break
                if delivery is None:
                    late = now - due if now - due >= _LATE_AFTER else None
                    delivery = self._dispatch(
                        incident, person, channel, key, DeliveryKind.PAGE, now, late=late
                    )
                planned = incident.level_at + step * (k + 1)
                if delivery is not None and delivery.state in DONE_BADLY:
                    due = min(planned, delivery.updated_at)  # a failed channel hands over at once
                    continue
                exhausted, due = False, planned
        return wake, exhausted

    def _targets(self, level: Level, at: datetime) -> list[Person]:
        people: dict[str, Person] = {}
        for target in level.targets:
            for person in self.oncall.resolve(target, at):
                people.setdefault(person.id, person)
        return list(people.values())

    def _reachable(self, person: Person, channel: str) -> bool:
        if channel not in self.channels:
            return False
        if channel not in BUILT_IN_CHANNELS:
            return True  # a plugin's channel: the person's contact there, or their name
        return bool(person.email) if channel == BuiltIn.EMAIL else bool(person.phone)

    # deliveries ---------------------------------------------------------------------------------
    def _notify(self, incident: Incident, kind: DeliveryKind, by: str | None) -> None:
        """Tell everyone already paged that the incident was acknowledged (by whom) or cleared."""
        now = self.clock.now()
        seen: set[str] = set()
        for page in self.store.deliveries(incident.id, *REACHED):
            person = self.oncall.people.get(page.person)
            if page.kind != DeliveryKind.PAGE or person is None or person.id in seen:
                continue
            seen.add(person.id)
            if by is not None and by.startswith(person.name):
                continue  # the person who acknowledged knows
            channel = next((c for c in _NOTICE_CHANNELS if self._reachable(person, c)), None)
            if channel is not None:
                self._dispatch(incident, person, channel, f"{incident.id}:{kind}:{person.id}", kind, now, by)

    def _dispatch(
        self,
        incident: Incident,
        person: Person,
        channel: str,
        key: str,
        kind: DeliveryKind,
        now: datetime,
        by: str | None = None,
        late: timedelta | None = None,
    ) -> Delivery | None:
        """Claim the delivery's key, then send it in the background (or skip a channel that is down)."""
        delivery = Delivery(
            key,
            incident.id,
            kind,
            incident.level,
            incident.cycle,
            person.id,
            channel,
            SENDING,
            0,
            "",
            now,
            now,
        )
        if not self.store.claim(delivery):
            return self.store.delivery(key)
        down_until = self._down_until.get(channel)
        if down_until is not None and now < down_until:
            self._settle(
                delivery, SKIPPED, f"{channel} down until {down_until.isoformat(timespec='seconds')}", now
            )
            return delivery
        self._spawn(delivery, self._compose(incident, person, channel, key, kind, by, late))
        return delivery

    def _compose(
        self,
        incident: Incident,
        person: Person,
        channel: str,
        key: str,
        kind: DeliveryKind,
        by: str | None,
        late: timedelta | None = None,
    ) -> Outbound:
        language, zone = person.language, self.oncall.zone
        if channel in BUILT_IN_CHANNELS:
            to = (person.email if channel == BuiltIn.EMAIL else person.phone) or ""
        else:
            to = person.contacts.get(channel, person.name)
        now = self.clock.now()
        if kind == DeliveryKind.ACK:
            subject, text = messages.acknowledged(incident.code, by or "?", now, zone, language)
        elif kind == DeliveryKind.CLEAR:
            subject, text = messages.cleared(incident.code, now, zone, language)
        else:
            lines, others = self._lines(incident), len(self._others(incident, person))
            link = self.links.url(incident.id, person.id, now) if self.links is not None else ""
            room = gsm.PART * messages.SMS_SEGMENTS - (len(link) + 1 if link else 0)
            if channel == BuiltIn.EMAIL:
                subject, text = messages.email(
                    incident.code, lines, language, incident.opened_at, zone, others
                )
            elif channel == BuiltIn.VOICE:
                subject, text = "", messages.voice(incident.code, lines, language, zone)
            elif channel == BuiltIn.SMS:
                subject, text = "", messages.sms(incident.code, lines, language, zone, others, room)
            else:  # a plugin's channel (a chat): the e-mail's subject, the SMS's short text
                subject = messages.email(incident.code, lines, language, incident.opened_at, zone)[0]
                text = messages.sms(incident.code, lines, language, zone, others, room)
            if link and channel != BuiltIn.VOICE:
                text += ("\n" if channel == BuiltIn.EMAIL else " ") + link
            if late is not None:
                note = messages.late(late.total_seconds(), language)
                subject, text = (f"{note} — {subject}" if subject else ""), f"{note} — {text}"
        return Outbound(
            key, to, language, subject, text, gather=kind == DeliveryKind.PAGE and channel == BuiltIn.VOICE
        )

    def _lines(self, incident: Incident) -> list[messages.AlarmLine]:
        lines = []
        for paged in self.store.alarms(incident.id):
            event = paged.event
            tag = self.config.tag(event.tag)
            station = self.config.station(tag.station).name if tag else event.tag.split(".")[0]
            now = self._situation(event.tag) if self._situation else None
            lines.append(
                messages.AlarmLine(
                    event.alarm,
                    station,
                    event.priority,
                    event.message_fr,
                    event.message_en,
                    event.value,
                    tag.unit if tag else "",
                    now,
                )
            )
        return lines

    def _others(self, incident: Incident, person: Person) -> set[str]:
        """Who else this incident has paged or is paging at its level: a page says how many."""
        paged = {d.person for d in self.store.deliveries(incident.id) if d.kind == DeliveryKind.PAGE}
        policy = self.policies.get(incident.policy)
        if policy is not None and incident.level < len(policy.levels):
            paged |= {p.id for p in self._targets(policy.levels[incident.level], incident.level_at)}
        paged.discard(person.id)
        return paged

    def _spawn(self, delivery: Delivery, outbound: Outbound | None = None) -> None:
        if outbound is None:  # a retry resumed after a restart: compose it again
            incident = self.store.incident(delivery.incident)
            person = self.oncall.people.get(delivery.person)
            if incident is None or person is None:
                self._settle(delivery, FAILED, "incident or person no longer known", self.clock.now())
                return
            outbound = self._compose(
                incident, person, delivery.channel, delivery.key, delivery.kind, incident.acked_by
            )
        task = asyncio.get_running_loop().create_task(
            self._send(delivery, outbound), name=f"page {delivery.key}"
        )
        self._tasks.add(task)
        self._inflight.add(delivery.key)
        task.add_done_callback(self._tasks.discard)
        key = delivery.key
        task.add_done_callback(lambda _task: self._inflight.discard(key))

    async def _still_wanted(self, delivery: Delivery) -> bool:
        """A page still has to leave: its incident is open here and nowhere acknowledged (an
        acknowledgement accepted by another server a moment ago is read from the site's record
        between the claim and the send, and taken here at once)."""
        if delivery.kind != DeliveryKind.PAGE:
            return True
        mine = self.store.incident(delivery.incident)
        if mine is None or mine.state != OPEN:
            return False
        theirs = await self.store.current(delivery.incident)
        if theirs is not None and theirs.state == ACKED:
            mine = self.store.incident(delivery.incident)  # it may have been taken meanwhile
            if mine is not None and mine.state in _TAKEABLE and self._leading():
                by = theirs.acked_by or "?"
                self._taken(mine, by, theirs.acked_at or self.clock.now())
                self._acknowledge_alarms(mine, by)
            return False
        return True

    def first_time(self, token: str) -> bool:
        return self.store.first_time(token, self.clock.now())

    def now(self) -> datetime:
        return self.clock.now()

    async def settled(self) -> None:
        """What this server decided is in the site's record: called before an acknowledgement
        is answered, so that no server sends a page after it."""
        await self.store.settled()

    async def _send(self, delivery: Delivery, outbound: Outbound) -> None:
        channel = self.channels[delivery.channel]
        loop = asyncio.get_running_loop()
        if delivery.attempts == 0 and not await self.store.reserve(delivery):
            _LOGGER.warning("%s already claimed by another server: not sent from here", delivery.key)
            self._settle(delivery, SKIPPED, "claimed by another server", self.clock.now())
            return
        while True:
            if not await self._still_wanted(delivery):
                why = "acknowledged before the retry" if delivery.attempts else "acknowledged before it left"
                self._settle(delivery, CANCELLED, why, self.clock.now())
                return
            if not self._leading():  # fenced: lost the lead (a pause, a cut) since it was claimed
                self._settle(delivery, SKIPPED, "not sent: this server no longer leads", self.clock.now())
                return
            delivery.attempts += 1
            delivery.state = SENDING
            self.store.update(delivery)
            try:
                provider_id = await loop.run_in_executor(self._executor, channel.deliver, outbound)
            except Transient as err:
                now = self.clock.now()
                if delivery.attempts <= self.escalation.retries:
                    backoff = self.escalation.retry_base_s * 2 ** (delivery.attempts - 1)
                    self._settle(delivery, RETRY, f"{err}; retry in {backoff:g} s", now)
                    await pause(self.clock, backoff, real=True)
                    continue
                self._failed(delivery, str(err))
            except ChannelDown as err:
                self._down_until[delivery.channel] = self.clock.now() + timedelta(
                    seconds=self.escalation.channel_down_s
                )
                self._failed(delivery, str(err))
            except Rejected as err:
                self._failed(delivery, str(err))
            except Exception as err:  # a bug or an unexpected library error: journal it, move on
                _LOGGER.exception("delivery %s failed unexpectedly", delivery.key)
                self._failed(delivery, f"unexpected: {err!r}")
            else:
                self._settle(delivery, SENT, provider_id, self.clock.now())
                _LOGGER.info(
                    "%s %s sent to %s by %s", delivery.kind, delivery.key, delivery.person, delivery.channel
                )
            return

    def _failed(self, delivery: Delivery, detail: str) -> None:
        _LOGGER.warning(
            "%s %s to %s by %s failed: %s",
            delivery.kind,
            delivery.key,
            delivery.person,
            delivery.channel,
            detail,
        )
        self._settle(delivery, FAILED, detail, self.clock.now())
        if delivery.kind == DeliveryKind.PAGE:
            self._tick()  # the next channel or person, now

    def _settle(self, delivery: Delivery, state: DeliveryState, detail: str, at: datetime) -> None:
        delivery.state, delivery.detail, delivery.updated_at = state, detail, at
        self.store.update(delivery)
        self.store.attempt(delivery.key, at, state, detail)

    # read-outs ------------------------------------------------------------------------------------
    def channel_down(self, channel: str) -> datetime | None:
        until = self._down_until.get(channel)
        return until if until is not None and until > self.clock.now() else None
