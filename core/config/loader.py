"""Read the site YAML, validate it, and report every problem with its file, line and field.

ruamel.yaml keeps the line of each key and item, so a pydantic error location such as
``("tags", 3, "unit")`` is turned into ``demo.yaml:42: tags[3].unit``: an operator fixing the
file never has to count list items by hand.

Why one file: its one job is to map every validation error back to a line of the file; the YAML
positions, the error phrasing and the file checks serve only that.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError

from core.config.base import IDENT, TAG_ID, SecretRef
from core.config.dashboards import CARD_TYPES
from core.config.notify import ACCOUNT_SID, BUILT_IN_CHANNELS, E164, EMAIL, TIME_OF_DAY, BuiltIn
from core.config.partial import checkable
from core.config.schema import SOURCES, LimitsRule, SiteConfig, Tag, matching
from core.plugins import CARDS as CARD_PLUGINS
from core.plugins import CHANNELS as CHANNEL_PLUGINS
from core.plugins import SOURCES as SOURCE_PLUGINS
from core.plugins import names

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """One located problem in a config file."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ConfigError(Exception):
    """The config cannot be used; ``issues`` says where and why, one per problem."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


_MAX_VALUES = 200_000  # a real site is a few tens of thousands; YAML aliases can make billions


class _TooLarge(Exception):
    def __init__(self, loc: Loc) -> None:
        self.loc = loc


def load_config(path: str | Path, check_files: bool = True) -> SiteConfig:
    """Load and validate ``path``; raise :class:`ConfigError` listing every problem found.

    ``check_files``: certificate, key and CA files must exist (``ecreteur cert create``, which
    makes the station certificates, loads without it)."""
    path = Path(path)
    tree = _parse(path)
    try:
        plain = _plain(tree, [0], ())
    except RecursionError:
        raise ConfigError(
            [Issue(str(path), 0, "", "the file nests lists or mappings too deeply to be a site")]
        ) from None
    except _TooLarge as err:
        message = (f"the file expands to more than {_MAX_VALUES:,} values (YAML anchors and aliases "
                   "repeated into each other?): refused")  # fmt: skip
        raise ConfigError([_issue(path, tree, err.loc, message)]) from None
    try:
        config = SiteConfig.model_validate(plain)
    except ValidationError as err:
        issues = [_issue(path, tree, _without_tags(tree, e["loc"]), _explain(e)) for e in err.errors()]
        rest = checkable(plain, [tuple(e["loc"]) for e in err.errors()])
        if rest is not None:  # the next layer too: what the broken items hid
            checks = _consistency(rest.config)
            hidden = [(loc, text) for loc, text in checks if not rest.mentions_removed(text)]
            issues += [_issue(path, tree, rest.original(loc), text) for loc, text in hidden]
        raise ConfigError(_unique(issues)) from None
    found = list(_consistency(config))
    if check_files:
        found += _files(config, path.resolve().parent)
    issues = [_issue(path, tree, loc, message) for loc, message in found]
    if issues:
        raise ConfigError(issues)
    return anchored(config, path.resolve().parent)


def anchored(config: SiteConfig, base: Path) -> SiteConfig:
    """Every file the config names, made absolute against the config's folder.

    Done once here so that a server started from ``/`` (systemd) opens the very files that
    ``check-config`` found, whichever part opens them."""

    def at(name: str | None) -> str | None:
        return name if name is None or Path(name).is_absolute() else str(base / name)

    stations = [
        station.model_copy(update={
            "security": station.security.model_copy(update={
                "certificate": at(station.security.certificate),
                "private_key": at(station.security.private_key),
                "server_certificate": at(station.security.server_certificate),
            }),
            "mqtt": station.mqtt.model_copy(update={"ca_file": at(station.mqtt.ca_file)}),
        })
        for station in config.stations
    ]  # fmt: skip
    api, notify = config.api, config.notify
    if api.tls is not None:
        tls = api.tls.model_copy(
            update={"certificate": at(api.tls.certificate), "private_key": at(api.tls.private_key)}
        )
        api = api.model_copy(update={"tls": tls})
    if notify.smtp is not None:
        notify = notify.model_copy(
            update={"smtp": notify.smtp.model_copy(update={"ca_file": at(notify.smtp.ca_file)})}
        )
    return config.model_copy(update={"stations": stations, "api": api, "notify": notify})


def _unique(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))


_MAX_DEPTH = 64  # a site nests a handful of levels; YAML parsers recurse, slowly, on thousands


def _flow_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting outside quotes, found before the parser recurses into it."""
    depth = deepest = 0
    quote = ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _parse(path: Path) -> Any:
    yaml = YAML(typ="rt")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError([Issue(str(path), 0, "", f"cannot read the file: {err.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        message = (f"not UTF-8 text: byte 0x{raw[err.start]:02x} at column {column} "
                   "(save the file as UTF-8)")  # fmt: skip
        raise ConfigError([Issue(str(path), line, "", message)]) from None
    if _flow_depth(text) > _MAX_DEPTH:
        message = f"the file nests lists or mappings more than {_MAX_DEPTH} deep: not a site"
        raise ConfigError([Issue(str(path), 0, "", message)])
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        problem = err.problem or err.context or "invalid YAML"
        raise ConfigError([Issue(str(path), line, "", f"YAML syntax: {problem}")]) from None
    except RecursionError:
        raise ConfigError(
            [Issue(str(path), 0, "", "the file nests lists or mappings too deeply to be a site")]
        ) from None
    if not isinstance(tree, CommentedMap):
        raise ConfigError([Issue(str(path), 1, "", "expected a mapping with site, stations, tags…")])
    return tree


def _plain(node: Any, count: list[int], loc: Loc) -> Any:
    """ruamel's round-trip tree as plain Python, with ``!secret`` turned into SecretRef.

    Aliases are copied where they are used, so the copy is counted: a "billion laughs" file of
    a few hundred bytes is refused at ``_MAX_VALUES`` (``loc``: where), within a second."""
    count[0] += 1
    if count[0] > _MAX_VALUES:
        raise _TooLarge(loc[:2])
    if isinstance(node, TaggedScalar):
        if node.tag.value == "!secret":
            return SecretRef(str(node.value))
        return node.value
    if isinstance(node, dict):
        return {str(k): _plain(v, count, (*loc, str(k))) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, count, (*loc, i)) for i, v in enumerate(node)]
    return node


def _without_tags(tree: Any, loc: Loc) -> Loc:
    """Drop the discriminator pydantic inserts in a union's location (``alarms.0.limits.…``)."""
    node, kept = tree, []
    stripped: Any = None
    for key in loc:
        if isinstance(node, CommentedMap) and node.get("kind") == key and stripped is not node:
            stripped = node  # the tag comes right after the union's position, once
            continue
        kept.append(key)
        node = _child(node, key)
    return tuple(kept)


def _child(node: Any, key: str | int) -> Any:
    if isinstance(node, CommentedMap) and key in node:
        return node[key]
    if isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
        return node[key]
    return None


def _line_of(tree: Any, loc: Loc) -> int:
    """The 1-based line of the deepest part of ``loc`` found in the tree."""
    node, line = tree, 1
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            line = node.lc.key(key)[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            line = node.lc.item(key)[0] + 1
            node = node[key]
        else:
            break
    return line


def _field(loc: Loc) -> str:
    text = ""
    for key in loc:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def _issue(path: Path, tree: Any, loc: Loc, message: str) -> Issue:
    return Issue(str(path), _line_of(tree, loc), _field(loc), message)


def _explain(error: Any) -> str:
    """Pydantic's message, worded for someone editing YAML."""
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; `ecreteur schema` lists the allowed fields)"
    if kind == "union_tag_invalid":
        return f"unknown kind {error['ctx']['tag']!r}; expected one of {error['ctx']['expected_tags']}"
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(error["ctx"]["pattern"], "")
        return f"not the expected form: {hint}" if hint else str(message)
    return str(message).removeprefix("Value error, ")


_PATTERN_HINTS = {
    IDENT: "use lower-case letters, digits and underscores, starting with a letter",
    TAG_ID: "a tag id is its station's id, a dot, then lower-case letters, digits and underscores",
    E164: "an international number in E.164 form, e.g. +33612345678",
    TIME_OF_DAY: "a time of day as HH:MM, e.g. 08:00",
    EMAIL: "an e-mail address such as astreinte@example.fr",
    ACCOUNT_SID: "a Twilio account SID: AC then 32 hexadecimal digits",
}


def _files(config: SiteConfig, base: Path) -> Iterator[tuple[Loc, str]]:
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


def _consistency(config: SiteConfig) -> Iterator[tuple[Loc, str]]:
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
    yield from _alarm_consistency(config)
    yield from _notify_consistency(config)
    yield from _plugin_channels(config)
    yield from _dashboard_consistency(config)
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


def _notify_consistency(config: SiteConfig) -> Iterator[tuple[Loc, str]]:
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


def _dashboard_consistency(config: SiteConfig) -> Iterator[tuple[Loc, str]]:
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


def _alarm_consistency(config: SiteConfig) -> Iterator[tuple[Loc, str]]:
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
