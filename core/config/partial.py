"""What can still be checked in a config with broken items: every layer of errors at once.

The cross-reference checks (a tag's station exists, a route's policy exists…) need a validated
config, so a single bad id used to hide them until it was fixed, one round trip per layer.
Here the items that failed validation are set aside (the innermost list item holding each
error; a broken optional section entirely), the rest is validated again, and the locations
the checks report are mapped back to the file's own item numbers. A check that names an item
set aside ("unknown station 'x'" when station x was the broken one) is left out: the first
error already says what is wrong with it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from core.config.schema import SiteConfig

Loc = tuple[str | int, ...]
_REQUIRED = {"site", "stations", "tags"}
_ROUNDS = 5


class Partial:
    """The checkable rest of a config: its model, and how to find an item in the file."""

    def __init__(self, config: SiteConfig, plain: dict[str, Any], origins: dict[int, list[int]],
                 removed: set[str]) -> None:  # fmt: skip
        self.config, self._plain, self._origins, self.removed = config, plain, origins, removed

    def original(self, loc: Loc) -> Loc:
        """``loc`` in the validated rest → the same place in the file's numbering."""
        node: Any = self._plain
        out: list[str | int] = []
        for key in loc:
            if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                origin = self._origins.get(id(node))
                out.append(origin[key] if origin is not None else key)
                node = node[key]
            elif isinstance(node, dict) and key in node:
                out.append(key)
                node = node[key]
            else:
                out.append(key)
                node = None
        return tuple(out)

    def mentions_removed(self, message: str) -> bool:
        return any(f"'{ident}'" in message for ident in self.removed)


def checkable(plain: dict[str, Any], errors: Sequence[Loc]) -> Partial | None:
    """The config without the items holding ``errors``, validated; None when too much is broken."""
    rest = copy.deepcopy(plain)
    origins: dict[int, list[int]] = {}
    removed: set[str] = set()
    for _ in range(_ROUNDS):
        if not _set_aside(rest, errors, origins, removed):
            return None
        try:
            return Partial(SiteConfig.model_validate(rest), rest, origins, removed)
        except ValidationError as err:
            errors = [tuple(e["loc"]) for e in err.errors()]
    return None


def _set_aside(rest: dict[str, Any], errors: Sequence[Loc], origins: dict[int, list[int]],
               removed: set[str]) -> bool:  # fmt: skip
    items: dict[int, tuple[list[Any], set[int]]] = {}
    sections: set[str] = set()
    for loc in errors:
        node: Any = rest
        innermost: tuple[list[Any], int] | None = None
        for key in loc:
            if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                innermost = (node, key)
                node = node[key]
            elif isinstance(node, dict) and key in node:
                node = node[key]
            else:
                break
        if innermost is not None:
            lst, index = innermost
            items.setdefault(id(lst), (lst, set()))[1].add(index)
        elif loc and isinstance(loc[0], str) and loc[0] in rest and loc[0] not in _REQUIRED:
            sections.add(loc[0])
        else:
            return False  # a required part is broken as a whole: nothing sound to check
    for section in sections:
        del rest[section]
    for lst, indexes in items.values():
        origin = origins.setdefault(id(lst), list(range(len(lst))))
        for index in sorted(indexes, reverse=True):
            item = lst.pop(index)
            origin.pop(index)
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                removed.add(item["id"])
    return bool(items or sections)
