"""Writes edited dashboards back into the site config, changing only the lines they edited.

A site file is the engineer's: its comments, indentation, quoting and explicit defaults are
part of it, and a reviewer reads the diff of a desktop save. So the file is not re-dumped: it
is parsed once (ruamel's round-trip tree gives each dashboard's and card's line), the edits are
worked out card by card (a moved card is one changed line, a new card one inserted line, a
removed one its lines deleted), and only those lines are rewritten, in the style of the card
they replace. The result is validated as a whole before it atomically replaces the original:
an edit from the desktop can never leave a broken config behind.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import stat
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from core.config.dashboards import Card, Dashboard
from core.config.loader import load_config
from core.config.schema import SiteConfig

_LOGGER = logging.getLogger(__name__)
_STALE_S = 300.0  # a save takes milliseconds: an older temporary is a killed save's


@dataclass(frozen=True, slots=True)
class _Edit:
    """Replace lines ``start``–``end`` (0-based, end excluded) by ``text`` (empty: delete)."""

    start: int
    end: int
    text: list[str]


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # a card stays on its one line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _flow(value: Any) -> Any:
    """Lists and mappings inside a card in flow style, as a hand-written card has them."""
    if isinstance(value, dict):
        node = CommentedMap((k, _flow(v)) for k, v in value.items())
        node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_flow(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def _dump(node: Any) -> list[str]:
    out = io.StringIO()
    _yaml().dump(node, out)
    return out.getvalue().splitlines(keepends=True)


def _item(node: Any, dash: int, col: int) -> list[str]:
    """``node`` as one item of a block sequence whose dash is at ``dash``, content at ``col``."""
    lines = _dump(node)
    if len(lines) == 1 and lines[0].startswith(("{", "[")):
        return [" " * dash + "- " + lines[0]]
    return [" " * dash + "- " + lines[0], *(" " * col + line if line.strip() else line for line in lines[1:])]


def _key(card: Card) -> str:
    """What a card shows: a card whose key is unchanged is the same card, moved or resized."""
    return json.dumps([card.type, card.title and card.title.model_dump(), card.tag, card.tags, card.station])


def _card_node(card: Card) -> CommentedMap:
    node = _flow(card.model_dump(mode="json", exclude_defaults=True))
    assert isinstance(node, CommentedMap)
    return node


def _updated(original: CommentedMap, card: Card) -> CommentedMap:
    """The original card with the new values, its keys' order and explicit defaults kept."""
    full, slim = card.model_dump(mode="json"), card.model_dump(mode="json", exclude_defaults=True)
    node = CommentedMap()
    for key, value in original.items():
        new = full.get(key)
        if new is None:
            continue  # a field emptied by the edit (a title removed)
        node[key] = value if value == new else _flow(new)
    for key, value in slim.items():
        if key not in node:
            node[key] = _flow(value)
    if original.fa.flow_style():
        node.fa.set_flow_style()
    return node


def _in_place(original: CommentedMap, card: Card, lines: _Lines) -> list[_Edit] | None:
    """A block-style card moved or resized: its changed numbers rewritten where they stand, so
    the card's comments stay; None when the change is more than that."""
    if original.fa.flow_style():
        return None
    full = card.model_dump(mode="json")
    edits = []
    for key, new in full.items():
        value = original.get(key)
        if value == new or (
            key not in original and new == Card.model_fields[key].get_default(call_default_factory=True)
        ):
            continue
        if key not in original or not isinstance(value, int) or not isinstance(new, int):
            return None
        line, col = original.lc.value(key)
        text = lines.lines[line]
        old = str(value)
        if text[col : col + len(old)] != old:
            return None
        edits.append(_Edit(line, line + 1, [text[:col] + str(new) + text[col + len(old) :]]))
    return edits


class _Lines:
    """Where things are in the file: lines, and the end of a block without its trailing comments."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)

    def trimmed(self, start: int, end: int) -> int:
        """``end`` moved back over blank and comment lines: they introduce what follows."""
        while end > start + 1 and (
            not self.lines[end - 1].strip() or self.lines[end - 1].lstrip().startswith("#")
        ):
            end -= 1
        return end

    def dash(self, line: int) -> int:
        """The column of the sequence dash that starts ``line``."""
        text = self.lines[line]
        return len(text) - len(text.lstrip())


def _section_end(tree: CommentedMap, lines: _Lines) -> int:
    keys = list(tree)
    after = keys[keys.index("dashboards") + 1 :]
    return tree.lc.key(after[0])[0] if after else len(lines.lines)


def _dashboard_edits(
    node: CommentedMap, start: int, end: int, old: Dashboard, new: Dashboard, lines: _Lines
) -> list[_Edit] | None:
    """The edits of one dashboard kept in the file; None: rewrite it whole (an unusual layout)."""
    edits: list[_Edit] = []
    keys = list(node)
    if old.title != new.title:
        at = node.lc.key("title")[0]
        following = [node.lc.key(k)[0] for k in keys[keys.index("title") + 1 :]]
        title_end = following[0] if following else end
        indent = " " * node.lc.key("title")[1]
        title = _flow(new.title.model_dump(mode="json", exclude_defaults=True))
        edits.append(_Edit(at, lines.trimmed(at, title_end), [indent + "title: " + _dump(title)[0]]))
    if old.cards == new.cards:
        return edits
    cards = node.get("cards")
    if not isinstance(cards, CommentedSeq) or cards.fa.flow_style() or not cards:
        return None
    spans = []
    for index in range(len(cards)):
        at = cards.lc.item(index)[0]
        stop = cards.lc.item(index + 1)[0] if index + 1 < len(cards) else end
        spans.append((at, lines.trimmed(at, stop)))
    if any(not isinstance(card, CommentedMap) for card in cards):
        return None
    col = cards.lc.item(0)[1]
    dash = lines.dash(spans[0][0])
    unused = {i: _key(card) for i, card in enumerate(old.cards)}
    added: list[Card] = []
    for card in new.cards:
        match = next((i for i, key in unused.items() if key == _key(card)), None)
        if match is None:
            added.append(card)
            continue
        del unused[match]
        if old.cards[match] != card:
            in_place = _in_place(cards[match], card, lines)
            at, stop = spans[match]
            edits += (
                in_place
                if in_place is not None
                else [_Edit(at, stop, _item(_updated(cards[match], card), dash, col))]
            )
    for index in unused:  # removed from the dashboard
        edits.append(_Edit(*spans[index], []))
    if added:
        last = spans[-1][1]
        edits.append(
            _Edit(last, last, [line for card in added for line in _item(_card_node(card), dash, col)])
        )
    return edits


def _section(dashboards: Sequence[Dashboard], dash: int = 2, col: int = 4) -> list[str]:
    out: list[str] = []
    for dashboard in dashboards:
        node = CommentedMap(id=dashboard.id)
        node["title"] = _flow(dashboard.title.model_dump(mode="json", exclude_defaults=True))
        cards = CommentedSeq(_card_node(card) for card in dashboard.cards)
        if not cards:
            cards.fa.set_flow_style()
        node["cards"] = cards
        out += _item(node, dash, col)
    return out


def _edits(text: str, tree: CommentedMap, dashboards: list[Dashboard]) -> list[_Edit]:
    lines = _Lines(text)
    if "dashboards" not in tree:  # none yet: a new section at the end of the file
        end = len(lines.lines)
        head = [] if not text or text.endswith("\n") else ["\n"]
        return [_Edit(end, end, [*head, "\ndashboards:\n", *_section(dashboards)])]
    section = tree["dashboards"]
    key_line = tree.lc.key("dashboards")[0]
    end = lines.trimmed(key_line, _section_end(tree, lines))
    if not isinstance(section, CommentedSeq) or section.fa.flow_style() or not section:
        return [_Edit(key_line, end, ["dashboards:\n", *_section(dashboards)])]
    old = [Dashboard.model_validate(item) for item in section]
    spans = []
    for index in range(len(section)):
        at = section.lc.item(index)[0]
        stop = section.lc.item(index + 1)[0] if index + 1 < len(section) else end
        spans.append((at, lines.trimmed(at, stop)))
    dash, col = lines.dash(spans[0][0]), section.lc.item(0)[1]
    edits: list[_Edit] = []
    wanted = {dashboard.id: dashboard for dashboard in dashboards}
    for index, dashboard in enumerate(old):
        at, stop = spans[index]
        new = wanted.pop(dashboard.id, None)
        if new is None:
            edits.append(_Edit(at, stop, []))
        elif new != dashboard:
            found = _dashboard_edits(section[index], at, stop, dashboard, new, lines)
            edits += found if found is not None else [_Edit(at, stop, _section([new], dash, col))]
    if wanted:
        edits.append(_Edit(end, end, _section(list(wanted.values()), dash, col)))
    return edits


def edited_text(text: str, dashboards: list[Dashboard]) -> str:
    """``text`` (a site file) with its dashboards made ``dashboards``, every other line as it was."""
    tree = _yaml().load(text)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for edit in sorted(_edits(text, tree, dashboards), key=lambda e: (e.start, e.end), reverse=True):
        lines[edit.start : edit.end] = edit.text
    return "".join(lines)


def save_dashboards(path: Path, dashboards: list[Dashboard]) -> SiteConfig:
    """Replace the dashboards of ``path``; return the config as now saved.

    The new file keeps the old one's mode (and owner, when allowed): a save must not make an
    admin's 0644 file unreadable to the service user."""
    clean_temporaries(path)
    text = edited_text(path.read_text(encoding="utf-8"), dashboards)
    before = path.stat()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=_prefix(path), suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fchmod(out.fileno(), stat.S_IMODE(before.st_mode))
            if (before.st_uid, before.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(PermissionError):  # not root: ours now, its mode kept
                    os.fchown(out.fileno(), before.st_uid, before.st_gid)
            os.fsync(out.fileno())
        config = load_config(Path(temporary))  # the whole file must still be valid
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return config


def _prefix(path: Path) -> str:
    return f".{path.name}."


def clean_temporaries(path: Path) -> list[Path]:
    """Remove what killed saves of ``path`` left beside it (older than a save could take)."""
    removed = []
    now = time.time()
    for left in path.parent.glob(f"{_prefix(path)}*.yaml"):
        try:
            if now - left.stat().st_mtime > _STALE_S:
                left.unlink()
                removed.append(left)
        except FileNotFoundError:  # another process cleaned it first
            continue
    if removed:
        _LOGGER.info("%s: %d temporary file(s) of an interrupted save removed", path, len(removed))
    return removed
