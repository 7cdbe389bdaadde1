"""Read the site YAML, validate it, and report every problem with its file, line and field.

ruamel.yaml keeps the line of each key and item, so a pydantic error location such as
``("tags", 3, "unit")`` is turned into ``demo.yaml:42: tags[3].unit``: an operator fixing the
file never has to count list items by hand.

The checks across fields live in ``checks.py``; this module maps every error back to a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError

from core.config.base import IDENT, TAG_ID, SecretRef
from core.config.checks import Loc, consistency, files
from core.config.notify import ACCOUNT_SID, E164, EMAIL, TIME_OF_DAY
from core.config.partial import checkable
from core.config.schema import SiteConfig


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
            checks = consistency(rest.config)
            hidden = [(loc, text) for loc, text in checks if not rest.mentions_removed(text)]
            issues += [_issue(path, tree, rest.original(loc), text) for loc, text in hidden]
        raise ConfigError(_unique(issues)) from None
    found = list(consistency(config))
    if check_files:
        found += files(config, path.resolve().parent)
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
