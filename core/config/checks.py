"""The checks a site needs beyond each field's own: across fields, sections and files.

Each check yields ``(location, message)``; the loader (``loader.py``) turns the location into a
file, a line and a field. Apart from the loader so that the YAML positions and the site's rules
each have a room: a new rule (a card type, a channel) is added here without reading the parser.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.config.alarms import LimitsRule
from core.config.dashboards import CARD_TYPES
from core.config.notify import BUILT_IN_CHANNELS, BuiltIn
from core.config.schema import SOURCES, SiteConfig, Tag, matching
from core.plugins import CARDS as CARD_PLUGINS
from core.plugins import CHANNELS as CHANNEL_PLUGINS
from core.plugins import SOURCES as SOURCE_PLUGINS
from core.plugins import names

Loc = tuple[str | int, ...]


def files(config: SiteConfig, base: Path) -> Iterator[tuple[Loc, str]]:
    """Certificate, key and CA files named in the config exist (relative to the config's folder)."""

    def missing(loc: Loc, name: str | None, hint: str = "") -> Iterator[tuple[Loc, str]]:
        if name is not None and not (base / name).is_file():
            yield loc, f"no such file: {base / name}{hint}"

    for i, station in enumerate(config.stations):
        security, where = station.security, ("stations", i, "security")
        make = " (`ecreteur cert create --config …` makes it)"
        yield from missing((*where, "certificate"), security.certificate, make)
        yield from missing((*where, "private_key"), security.private_key, make)
        yield from missing((*where, "server_certificate"), security.server_certificate)
        yield from missing(("stations", i, "mqtt", "ca_file"), station.mqtt.ca_file)
    if config.api.tls is not None:
        yield from missing(("api", "tls", "certificate"), config.api.tls.certificate)
        yield from missing(("api", "tls", "private_key"), config.api.tls.private_key)
    if config.notify.smtp is not None:
        yield from missing(("notify", "smtp", "ca_file"), config.notify.smtp.ca_file)


def consistency(config: SiteConfig) -> Iterator[tuple[Loc, str]]:
    """Checks across fields that the per-field models cannot see."""
    stations = {station.id for station in config.stations}
    yield from _duplicates("stations", [station.id for station in config.stations])
    yield from _duplicates("tags", [tag.id for tag in config.tags])
    sources = {station.id: station.source for station in config.stations}
    for i, tag in enumerate(config.tags):
        if tag.station not in stations:
            known = ", ".join(sorted(stations))
            yield ("tags", i, "station"), f"unknown station {tag.station!r} (known: {known})"
        elif not tag.id.startswith(tag.station + "."):
            yield ("tags", i, "id"), f"a tag id starts with its station: {tag.station}.…"
        yield from _addressed(i, tag, sources.get(tag.station))
        if tag.range is not None and tag.range[0] >= tag.range[1]:
            yield ("tags", i, "range"), f"range minimum {tag.range[0]} is not below maximum {tag.range[1]}"
    roles: dict[tuple[str, str], str] = {}
    for i, tag in enumerate(config.tags):
        if tag.role is not None:
            first = roles.setdefault((tag.station, tag.role.value), tag.id)
            if first != tag.id:
                yield ("tags", i, "role"), f"{first} is already the {tag.role.value} of {tag.station}"
    yield from alarm_consistency(config)
    yield from notify_consistency(config)
    yield from _plugin_channels(config)
    yield from dashboard_consistency(config)
    offered = source_names()
    for i, station in enumerate(config.stations):
        if station.source not in offered:
            listed = ", ".join(sorted(offered))
            yield ("stations", i, "source"), f"unknown source {station.source!r} (known: {listed})"
        security = station.security
        if security.mode.value != "None" and not (security.certificate and security.private_key):
            yield (
                ("stations", i, "security"),
                f"mode {security.mode.value} needs `certificate` and `private_key`",
            )
        if station.password is not None and station.user is None:
            yield ("stations", i, "password"), "a password needs a `user`"


def source_names() -> set[str]:
    return {*SOURCES, *names(SOURCE_PLUGINS)}


def _plugin_channels(config: SiteConfig) -> Iterator[tuple[Loc, str]]:
    offered = names(CHANNEL_PLUGINS)
    for loc, message in _duplicates("channels", [channel.id for channel in config.notify.channels]):
        yield ("notify", *loc), message
    for i, channel in enumerate(config.notify.channels):
        if channel.id in BUILT_IN_CHANNELS:
            yield ("notify", "channels", i, "id"), f"{channel.id!r} is a built-in channel's name"
        if channel.plugin not in offered:
            listed = ", ".join(sorted(offered)) or "none installed"
            yield ("notify", "channels", i, "plugin"), f"no installed plugin {channel.plugin!r} ({listed})"


def _addressed(i: int, tag: Tag, source: str | None) -> Iterator[tuple[Loc, str]]:
    """A tag says where its station finds it, in the station's own terms."""
    opcua = tag.node is not None or tag.browse_path is not None
    if source == "opcua" and (tag.node is None) == (tag.browse_path is None):
        yield ("tags", i), "give exactly one of `node` (node id) or `browse_path`"
    elif source == "mqtt" and tag.mqtt is None:
        yield ("tags", i), "a tag of an mqtt station needs `mqtt: {topic: …}`"
    if source not in (None, "opcua") and opcua:
        yield ("tags", i), f"`node` and `browse_path` are for OPC-UA stations; {tag.station} is {source}"
    if source != "mqtt" and tag.mqtt is not None and source is not None:
        yield ("tags", i, "mqtt"), f"`mqtt` is for tags of an mqtt station; {tag.station} is {source}"


def notify_consistency(config: SiteConfig) -> Iterator[tuple[Loc, str]]:
    """Every person, team and policy named exists, and every channel used can reach its target."""
    roster, escalation = config.roster, config.escalation
    people = {person.id: person for person in roster.people} if roster else {}
    teams = {team.id: team for team in roster.teams} if roster else {}
    if roster:
        for loc, message in _duplicates("people", [person.id for person in roster.people]):
            yield ("roster", *loc), message
        for i, team in enumerate(roster.teams):
            for j, member in enumerate(team.members):
                if member not in people:
                    yield ("roster", "teams", i, "members", j), f"unknown person {member!r}"
            for j, override in enumerate(team.overrides):
                if override.person not in people:
                    yield (
                        ("roster", "teams", i, "overrides", j, "person"),
                        f"unknown person {override.person!r}",
                    )
    if escalation is None:
        return
    if roster is None:
        yield ("escalation",), "escalation needs a `roster` of the people to page"
        return
    policies = {policy.id for policy in escalation.policies}
    stations = {station.id for station in config.stations}
    plugged = {channel.id for channel in config.notify.channels}
    for i, route in enumerate(escalation.routes):
        if route.policy not in policies:
            yield ("escalation", "routes", i, "policy"), f"unknown policy {route.policy!r}"
        for j, station in enumerate(route.stations or ()):
            if station not in stations:
                yield ("escalation", "routes", i, "stations", j), f"unknown station {station!r}"
    for i, policy in enumerate(escalation.policies):
        for j, level in enumerate(policy.levels):
            where = ("escalation", "policies", i, "levels", j)
            for k, channel in enumerate(level.channels):
                if channel in plugged:
                    continue
                if channel not in BUILT_IN_CHANNELS:
                    listed = ", ".join([*BUILT_IN_CHANNELS, *sorted(plugged)])
                    yield (*where, "channels", k), f"unknown channel {channel!r} (known: {listed})"
                    continue
                account = config.notify.smtp if channel == BuiltIn.EMAIL else config.notify.twilio
                if account is None:
                    needed = "notify.smtp" if channel == BuiltIn.EMAIL else "notify.twilio"
                    yield (*where, "channels", k), f"channel {channel!r} needs `{needed}`"
            reachable = _reachable(level, people, teams)
            for channel in level.channels:
                if reachable is not None and not reachable.get(channel, True):
                    field = "email" if channel == BuiltIn.EMAIL else "phone"
                    yield (
                        (*where, "channels"),
                        f"channel {channel!r} reaches nobody of this level (no {field})",
                    )
            for k, target in enumerate(level.targets):
                if target.person is not None and target.person not in people:
                    yield (*where, "targets", k, "person"), f"unknown person {target.person!r}"
                named = target.oncall or target.team
                if named is not None and named not in teams:
                    field = "oncall" if target.oncall else "team"
                    yield (*where, "targets", k, field), f"unknown team {named!r}"


def _reachable(level: Any, people: dict[str, Any], teams: dict[str, Any]) -> dict[str, bool] | None:
    """For each channel of ``level``, whether any of its people has the address it needs
    (None when a target is unknown: reported elsewhere)."""
    members: list[Any] = []
    for target in level.targets:
        if target.person is not None:
            if target.person not in people:
                return None
            members.append(people[target.person])
        else:
            team = teams.get(target.oncall or target.team)
            if team is None:
                return None
            members += [people[m] for m in team.members if m in people]
    return {
        channel: any(bool(p.email) if channel == BuiltIn.EMAIL else bool(p.phone) for p in members)
        for channel in level.channels
        if channel in BUILT_IN_CHANNELS  # a plugin channel reaches anyone (their name by default)
    }


def dashboard_consistency(config: SiteConfig) -> Iterator[tuple[Loc, str]]:
    yield from _duplicates("dashboards", [dashboard.id for dashboard in config.dashboards])
    stations = {station.id for station in config.stations}
    types = {*CARD_TYPES, *names(CARD_PLUGINS)}
    for i, dashboard in enumerate(config.dashboards):
        for j, card in enumerate(dashboard.cards):
            where = ("dashboards", i, "cards", j)
            if card.type not in types:
                yield (*where, "type"), f"unknown card type {card.type!r} (known: {', '.join(sorted(types))})"
            if card.tag is not None and config.tag(card.tag) is None:
                yield (*where, "tag"), f"unknown tag {card.tag!r}"
            for k, tag in enumerate(card.tags):
                if config.tag(tag) is None:
                    yield (*where, "tags", k), f"unknown tag {tag!r}"
            if card.station is not None and card.station not in stations:
                yield (*where, "station"), f"unknown station {card.station!r}"


_LIMIT_ORDER = ("LL", "L", "H", "HH", "HHH")


def alarm_consistency(config: SiteConfig) -> Iterator[tuple[Loc, str]]:
    yield from _duplicates("alarms", [rule.id for rule in config.alarms])
    tag_ids = [tag.id for tag in config.tags]
    station_ids = [station.id for station in config.stations]
    known_tags, known_stations = set(tag_ids), set(station_ids)
    for i, rule in enumerate(config.alarms):
        communication = rule.kind == "communication"
        targets = station_ids if communication else tag_ids
        if not matching(rule.tags, targets, known_stations if communication else known_tags):
            what = "station" if rule.kind == "communication" else "tag"
            yield ("alarms", i, "tags"), f"{rule.tags!r} matches no {what} of the site"
        if isinstance(rule, LimitsRule):
            present = [(kind, rule.limits[kind].value) for kind in _LIMIT_ORDER if kind in rule.limits]
            for (low_kind, low), (high_kind, high) in itertools.pairwise(present):
                if low >= high:
                    yield (
                        ("alarms", i, "limits", high_kind),
                        f"{high_kind} ({high}) must be above {low_kind} ({low})",
                    )


def _duplicates(section: str, ids: list[str]) -> Iterator[tuple[Loc, str]]:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            yield (section, i, "id"), f"duplicate id {ident!r}"
        seen.add(ident)
