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

The escalation is one state machine over the durable store; around it, apart: what a delivery
says (compose.py), its sending and retries (outbox.py), the phone's acknowledgements
(phone.py), what a server does while another leads (follower.py), the roster and the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from core.bus import ALARMS, Bus
from core.clock import Clock, Timer
from core.config.notify import BuiltIn, Escalation, Level, Person, Policy
from core.config.schema import SiteConfig, matching
from core.model import AlarmAction, AlarmEvent
from core.notify.channels import Channel
from core.notify.compose import Composer, Situations
from core.notify.follower import TAKEABLE, TAKEN, Follower
from core.notify.links import IncidentLinks
from core.notify.outbox import Outbox
from core.notify.phone import PhoneDesk
from core.notify.roster import OnCall
from core.notify.store import (
    ACKED,
    CLEARED,
    DONE_BADLY,
    EXHAUSTED,
    OPEN,
    REACHED,
    SENDING,
    Delivery,
    DeliveryKind,
    Incident,
    PagingStore,
)

_LOGGER = logging.getLogger(__name__)

_NOTICE_CHANNELS = (BuiltIn.SMS, BuiltIn.EMAIL)
_LATE_AFTER = timedelta(seconds=1)  # a page sent this long after its time says how late it is


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
        """``acknowledge(alarm, user, comment)`` is the operations surface's. ``leading()`` says
        whether this server may page now (the leader lease of redundant servers,
        ``core.storage.lease``); a follower pages nothing (``follower.py``) and takes over
        when ``resume()`` is called."""
        if config.escalation is None or config.roster is None:
            raise ValueError("the cascade needs `roster` and `escalation` in the site config")
        self.config = config
        self.escalation: Escalation = config.escalation
        self.bus, self.clock, self.store = bus, clock, store
        self.oncall = OnCall(config.roster)
        self.policies = {policy.id: policy for policy in self.escalation.policies}
        self._leading = leading or (lambda: True)
        self._timer: Timer | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._sync: asyncio.Task[None] | None = None
        self.composer = Composer(config, self.oncall, store, clock, self.policies, situation)
        wanted, again = self._still_wanted, self.composer.again  # an Outbox's questions to the cascade
        self.outbox = Outbox(store, clock, channels, self.escalation, self._leading, wanted, again, self.tick)
        self.follower = Follower(self, clock, self._leading, acknowledge)
        self.phone = PhoneDesk(
            config.site.language, self.oncall, self.outbox, acknowledge, self.taken, self.tick, self.escalate
        )

    @property
    def links(self) -> IncidentLinks | None:
        return self.composer.links

    @links.setter
    def links(self, links: IncidentLinks | None) -> None:
        """Set by a server that serves the incident pages: a page then carries its link."""
        self.composer.links = links

    # life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the store, settle what a crash interrupted, listen to alarms, resume the schedule."""
        self.store.open()
        self._unsubscribe = self.bus.subscribe(ALARMS, self.on_alarm)
        await self.store.start()
        if self.store.redundant:
            self._sync = asyncio.create_task(self.follower.syncing(), name="paging-sync")
            if self._leading():
                await self.follower.catch_up()
            return
        self.outbox.recover()  # what a crash of this server interrupted
        self.tick()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._timer is not None:
            self._timer.cancel()
        if self._sync is not None:
            self._sync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync
        await self.outbox.stop()
        await self.store.stop()
        self.store.close()

    # alarm events ---------------------------------------------------------------------------
    def on_alarm(self, event: AlarmEvent) -> None:
        if not self._leading():
            self.follower.on_alarm(event)
            return
        if event.action == AlarmAction.RAISED:
            self.raised(event)
        elif event.action in TAKEN:
            # an exhausted incident (nobody answered) is still taken: everyone paged is told
            for incident in self.store.incidents_of(event.alarm, *TAKEABLE):
                self.taken(incident, (event.user or "?") + TAKEN[event.action], event.ts)
        elif event.action == AlarmAction.RETURNED or (
            event.action == AlarmAction.ACKNOWLEDGED and not event.active
        ):
            for incident in self.store.incidents_of(event.alarm, OPEN, ACKED):
                self.store.set_alarm_active(incident.id, event.alarm, False)
                if not any(paged.active for paged in self.store.alarms(incident.id)):
                    self._cleared(incident, event.ts)

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

    def raised(self, event: AlarmEvent, seen: datetime | None = None) -> None:
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
        self.tick()

    def taken(self, incident: Incident, user: str, at: datetime) -> None:
        """Someone took charge: paging stops and everyone already paged is told who."""
        if not self._leading():  # the leader tells the people paged
            self.store.acknowledge(incident, user, at)
            _LOGGER.info("incident %s acknowledged by %s, passed to the leader", incident.code, user)
            return
        incident.state, incident.acked_by, incident.acked_at = ACKED, user, at
        self.store.save(incident)
        _LOGGER.info("incident %s acknowledged by %s: paging stops", incident.code, user)
        self._notify(incident, DeliveryKind.ACK, user)
        self.tick()

    def escalate(self, incident: Incident, by: str) -> str | None:
        """Someone paged cannot take it: the next level now. None, or why not (a ``reply`` word)."""
        policy = self.policies.get(incident.policy)
        if not self._leading():
            return "reply.not_leading"
        if policy is None or self._last_level(incident, policy):
            return "reply.last_level"
        _LOGGER.warning("incident %s: %s asks for the next level now", incident.code, by)
        self._next_level(incident, policy, self.clock.now())
        self.tick()
        return None

    def _cleared(self, incident: Incident, at: datetime) -> None:
        incident.state, incident.closed_at = CLEARED, at
        self.store.save(incident)
        _LOGGER.info("incident %s back to normal", incident.code)
        self._notify(incident, DeliveryKind.CLEAR, None)
        self.tick()

    async def settled(self) -> None:
        """What this server decided is in the site's record: called before an acknowledgement
        is answered, so that no server sends a page after it."""
        await self.store.settled()

    # the schedule -----------------------------------------------------------------------------
    def resume(self) -> None:
        """This server became the leader: catch up with the shared store, then send what is due."""
        if self.store.redundant:
            self.follower.catching_up = True
            task = asyncio.get_running_loop().create_task(self.follower.catch_up(), name="paging-catch-up")
            self.outbox.tasks.add(task)
            task.add_done_callback(self.outbox.tasks.discard)
            return
        self.follower.page_unpaged()
        self.tick()

    def tick(self) -> None:
        """Send what is due now and set the timer for what is due next."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._leading() or self.follower.catching_up:
            return  # a follower: the leader pages; resume() when this server takes over
        now = self.clock.now()
        wakes = [wake for incident in self.store.incidents(OPEN) if (wake := self._advance(incident, now))]
        if wakes:
            delay = (min(wakes) - now).total_seconds()
            self._timer = self.clock.call_later(max(delay, 0.0), self.tick)

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
        for person in self.oncall.level(level.targets, incident.level_at):
            due = incident.level_at
            for k, channel in enumerate(c for c in level.channels if self.outbox.reaches(person, c)):
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
        for person in self.oncall.level(level.targets, incident.level_at):
            due = incident.level_at
            for k, channel in enumerate(c for c in level.channels if self.outbox.reaches(person, c)):
                key = f"{incident.id}:page:{incident.cycle}:{incident.level}:{person.id}:{channel}"
                delivery = self.store.delivery(key)
                if delivery is None and due > now:
                    exhausted, wake = False, due if wake is None else min(wake, due)
                    break
                if delivery is None:
                    # a real second (a time-lapse's timer fires a few of its seconds after their time)
                    late = now - due if now - due >= _LATE_AFTER * self.clock.speed else None
                    delivery = self._dispatch(
                        incident, person, channel, key, DeliveryKind.PAGE, now, late=late
                    )
                planned = incident.level_at + step * (k + 1)
                if delivery is not None and delivery.state in DONE_BADLY:
                    due = min(planned, delivery.updated_at)  # a failed channel hands over at once
                    continue
                exhausted, due = False, planned
        return wake, exhausted

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
            channel = next((c for c in _NOTICE_CHANNELS if self.outbox.reaches(person, c)), None)
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
        fields = (incident.id, kind, incident.level, incident.cycle, person.id, channel, SENDING, 0, "")
        delivery = Delivery(key, *fields, now, now)
        return self.outbox.post(
            delivery, lambda: self.composer.outbound(incident, person, channel, key, kind, by, late)
        )

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
            self.follower.taken_elsewhere(theirs)  # it may have been taken here meanwhile
            return False
        return True
