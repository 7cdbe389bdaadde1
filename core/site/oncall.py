"""Who is paged, in one look: each team's person on call now and next, and each incident with
what was sent to whom, what was delivered, who acknowledged, and what is due next.

One reading for every face: the REST route ``/api/v1/oncall`` (``core.api.site``) answers it,
a desktop client reads it back from there (``core.site.wire``), a standalone desktop reads it
here from its own cascade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.config.notify import Policy, Roster
from core.notify.roster import OnCall, Shift
from core.notify.store import OPEN, Incident, PagingStore

RECENT = 30  # recent incidents shown beside the open ones


@dataclass(frozen=True, slots=True)
class Duty:
    """A shift: ``person`` answers for the team from ``start`` to ``end`` (UTC)."""

    person: str
    start: datetime
    end: datetime
    reason: str = ""  # a swap or a cover, when there is one


@dataclass(frozen=True, slots=True)
class TeamDuty:
    id: str
    name: str
    now: Duty
    next: Duty


@dataclass(frozen=True, slots=True)
class Sent:
    """One message of an incident: a page, who acknowledged, or back to normal."""

    kind: str  # page, ack, clear
    level: int  # from 0
    person: str
    channel: str
    state: str  # sending, retry, sent, delivered, failed, skipped, cancelled, unknown
    attempts: int
    detail: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Due:
    """What the escalation does next if nobody answers: level ``level`` (from 0) pages
    ``people`` at ``at``; ``level`` None means the escalation ends then, nobody left to page."""

    at: datetime
    level: int | None
    people: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IncidentDuty:
    id: int
    policy: str
    state: str  # open, acknowledged, cleared, exhausted
    opened_at: datetime
    level: int  # the level reached, from 0
    acked_by: str | None
    acked_at: datetime | None
    closed_at: datetime | None
    alarms: tuple[str, ...]
    messages_fr: tuple[str, ...]
    messages_en: tuple[str, ...]
    deliveries: tuple[Sent, ...]
    due: Due | None = None  # an open incident's next step


@dataclass(frozen=True, slots=True)
class OnCallView:
    configured: bool  # False: no roster on this site
    teams: tuple[TeamDuty, ...] = ()
    incidents: tuple[IncidentDuty, ...] = ()  # open ones first, then the most recent
    channels_down: Mapping[str, datetime] = field(default_factory=dict)  # skipped until then
    paging: bool = True  # False: a roster, but no escalation pages anyone from this site

    def open(self) -> list[IncidentDuty]:
        return [incident for incident in self.incidents if incident.state == OPEN]


def duty(shift: Shift) -> Duty:
    return Duty(shift.person.name, shift.start, shift.end, shift.reason)


def teams_on_call(roster: Roster, now: datetime, oncall: OnCall | None = None) -> tuple[TeamDuty, ...]:
    oncall = oncall or OnCall(roster)
    return tuple(
        TeamDuty(t.id, t.name, duty(oncall.shift(t.id, now)), duty(oncall.next_shift(t.id, now)))
        for t in roster.teams
    )


def read_oncall(
    roster: Roster,
    oncall: OnCall,
    store: PagingStore,
    policies: Mapping[str, Policy],
    channels_down: Mapping[str, datetime],
    now: datetime,
) -> OnCallView:
    """The view from a paging server's own store."""
    incidents = {i.id: i for i in store.incidents(OPEN)}
    for incident in store.recent(RECENT):
        incidents.setdefault(incident.id, incident)
    names = {p.id: p.name for p in roster.people}
    return OnCallView(
        True,
        teams_on_call(roster, now, oncall),
        tuple(_incident(i, store, names, oncall, policies.get(i.policy)) for i in incidents.values()),
        dict(channels_down),
    )


def _incident(
    incident: Incident, store: PagingStore, names: dict[str, str], oncall: OnCall, policy: Policy | None
) -> IncidentDuty:
    paged = store.alarms(incident.id)
    sent = tuple(
        Sent(d.kind, d.level, names.get(d.person, d.person), d.channel, d.state, d.attempts, d.detail,
             d.created_at, d.updated_at)
        for d in sorted(store.deliveries(incident.id), key=lambda d: d.created_at)
    )  # fmt: skip
    return IncidentDuty(
        incident.id, incident.policy, incident.state, incident.opened_at, incident.level, incident.acked_by,
        incident.acked_at, incident.closed_at, tuple(p.alarm for p in paged),
        tuple(p.event.message_fr for p in paged), tuple(p.event.message_en for p in paged), sent,
        due_of(incident, oncall, policy, names),
    )  # fmt: skip


def due_of(incident: Incident, oncall: OnCall, policy: Policy | None, names: dict[str, str]) -> Due | None:
    """The next level and when it starts, as the cascade walks it (``core.notify.cascade``)."""
    if incident.state != OPEN or policy is None or incident.level >= len(policy.levels):
        return None
    at = incident.level_at + timedelta(minutes=policy.levels[incident.level].delay_min)
    if incident.level + 1 < len(policy.levels):
        level = incident.level + 1
    elif incident.cycle + 1 < policy.repeat:
        level = 0
    else:
        return Due(at, None)
    people = oncall.level(policy.levels[level].targets, at)
    return Due(at, level, tuple(names.get(p.id, p.name) for p in people))
