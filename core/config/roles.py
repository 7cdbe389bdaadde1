"""What each tag of a dam is for (its level, its inflow, its rain…), as the views need it.

A tag says it with ``role``; without one, a tag whose id ends with a role's name
(``lauragais.level``) has that role, as in the demo site. Every face (the desktop's overview
and synoptic, the terminal table, the web pages) asks here, so a site whose PLC tags are named
otherwise (``ganguise.lt101``) gets full gauges once its tags say their role.
"""

from __future__ import annotations

from core import words
from core.config.schema import SiteConfig, Tag, TagKind, TagRole

ROLES = tuple(role.value for role in TagRole)


def role_of(tag: Tag) -> str | None:
    if tag.role is not None:
        return tag.role.value
    suffix = tag.id.removeprefix(tag.station + ".")
    return suffix if suffix in ROLES else None


def dam_tags(config: SiteConfig, station: str) -> dict[str, str]:
    """The tag id of each role this station has (an explicit role wins over a name)."""
    found: dict[str, str] = {}
    for tag in sorted(config.tags_of(station), key=lambda t: t.role is None):
        role = role_of(tag)
        if role is not None:
            found.setdefault(role, tag.id)
    return found


def state_words(tag: Tag, language: str) -> tuple[str, str]:
    """A discrete tag's words for 0 and 1 in ``language``: its own ``states``, else a door's
    open/closed, else on/off (``resources/i18n/words.yaml``, section ``value``)."""
    if tag.states is not None:
        return tag.states.off.get(language), tag.states.on.get(language)
    kind = "door" if role_of(tag) == TagRole.DOOR.value else "binary"
    return words.say(f"value.{kind}_off", language), words.say(f"value.{kind}_on", language)


def shown(tag: Tag, value: float, language: str) -> str:
    """A value as an operator reads it: "ouverte" for a door, "12,50 m" for a level."""
    if tag.kind is TagKind.DISCRETE:
        return state_words(tag, language)[1 if value >= 0.5 else 0]
    return f"{words.number(value, tag.decimals, language)} {tag.unit}".strip()
