"""What each tag of a dam is for (its level, its inflow, its rain…), as the views need it.

A tag says it with ``role``; without one, a tag whose id ends with a role's name
(``lauragais.level``) has that role, as in the demo site. Every face (the desktop's overview
and synoptic, the terminal table, the web pages) asks here, so a site whose PLC tags are named
otherwise (``ganguise.lt101``) gets full gauges once its tags say their role.
"""

from __future__ import annotations

from core.config.schema import SiteConfig, Tag, TagRole

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
