"""Who is on call: weekly rotations in the roster's local time, overrides first.

Handoffs are wall-clock times ("Monday 08:00, Europe/Paris"), so a week that spans a
daylight-saving change lasts 167 or 169 hours; counting weeks on local dates keeps every
handoff at 08:00 local whatever the season.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.config.notify import WEEKDAYS, Person, Roster, Target, Team


@dataclass(frozen=True, slots=True)
class Shift:
    """``person`` is on call for ``team`` from ``start`` to ``end``.

    Both are UTC: Python subtracts two datetimes of the same zone in wall-clock time, which
    would make every week 168 hours, DST or not.
    """

    team: str
    person: Person
    start: datetime
    end: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))


class OnCall:
    """Answers "who is on call for this team at this instant" from the roster config."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.zone = ZoneInfo(roster.timezone)
        self.people = {person.id: person for person in roster.people}
        self.teams = {team.id: team for team in roster.teams}

    def _local(self, naive_or_aware: datetime) -> datetime:
        """An override's time as UTC: naive means the roster's local time."""
        if naive_or_aware.tzinfo is None:
            naive_or_aware = naive_or_aware.replace(tzinfo=self.zone)
        return naive_or_aware.astimezone(UTC)

    def _handoff_before(self, team: Team, at: datetime) -> datetime:
        """The last rotation handoff at or before ``at``, as an aware local datetime."""
        local = at.astimezone(self.zone)
        hour, minute = (int(part) for part in team.handoff.time.split(":"))
        weekday = WEEKDAYS.index(team.handoff.day)
        day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
        handoff = datetime.combine(day, time(hour, minute), tzinfo=self.zone)
        if handoff > local:
            handoff = datetime.combine(day - timedelta(days=7), time(hour, minute), tzinfo=self.zone)
        return handoff

    def _rotation(self, team: Team, at: datetime) -> Shift:
        start = self._handoff_before(team, at)
        anchor = self._handoff_before(team, datetime.combine(team.rotation_start, time(23, 59), self.zone))
        weeks = (start.date() - anchor.date()).days // 7
        person = self.people[team.members[weeks % len(team.members)]]
        end_day = start.date() + timedelta(days=7)
        end = datetime.combine(end_day, start.timetz().replace(tzinfo=None), tzinfo=self.zone)
        return Shift(team.id, person, start, end)

    def shift(self, team_id: str, at: datetime) -> Shift:
        """The shift covering ``at``: an override if one applies, else the weekly rotation."""
        team = self.teams[team_id]
        for override in team.overrides:
            start, end = self._local(override.start), self._local(override.end)
            if start <= at < end:
                return Shift(team_id, self.people[override.person], start, end, override.reason)
        shift = self._rotation(team, at)
        # an override starting inside the rotation's week cuts it short
        at = at.astimezone(UTC)
        starts = [self._local(o.start) for o in team.overrides if at < self._local(o.start) < shift.end]
        if starts:
            shift = Shift(team_id, shift.person, shift.start, min(starts))
        return shift

    def next_shift(self, team_id: str, at: datetime) -> Shift:
        return self.shift(team_id, self.shift(team_id, at).end)

    def resolve(self, target: Target, at: datetime) -> list[Person]:
        """The people a policy target designates at ``at``."""
        if target.person is not None:
            return [self.people[target.person]]
        if target.oncall is not None:
            return [self.shift(target.oncall, at).person]
        assert target.team is not None
        return [self.people[member] for member in self.teams[target.team].members]

    def level(self, targets: Sequence[Target], at: datetime) -> list[Person]:
        """The people a level pages at ``at``, each once, in the order of its targets."""
        people: dict[str, Person] = {}
        for target in targets:
            for person in self.resolve(target, at):
                people.setdefault(person.id, person)
        return list(people.values())

    def person_by_phone(self, phone: str) -> Person | None:
        return next((person for person in self.roster.people if person.phone == phone), None)
