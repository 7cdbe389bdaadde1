"""What each tag of a dam is for (its level, its inflow, its rain…), as the views need it.

Today a role is read from the tag's name, ``<station>.<role>`` as in the demo site; every face
(the desktop's overview, the web pages) asks here, so that giving tags an explicit role changes
one place.
"""

from __future__ import annotations

from core.config.schema import SiteConfig

ROLES = ("level", "volume", "inflow", "outflow", "spillway_flow", "gate", "rain", "rain_total", "battery",
         "door", "watchdog")  # fmt: skip


def dam_tags(config: SiteConfig, station: str) -> dict[str, str]:
    """The tag id of each role this station has."""
    return {role: f"{station}.{role}" for role in ROLES if config.tag(f"{station}.{role}") is not None}
