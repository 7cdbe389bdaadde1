"""Plugins: other packages add sources, paging channels and dashboard cards through entry points.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."ecreteur.channels"]
    chat = "my_package.chat:create"      # create(channel_id, settings, secret) -> Channel
    [project.entry-points."ecreteur.sources"]
    modbus = "my_package.modbus:create"  # create(station, tags, bus, clock) -> a source link
    [project.entry-points."ecreteur.cards"]
    rain_bar = "my_package.cards:RainBar"  # the desktop's card (hmi/plugin_cards.py)

The names are read without importing anything (the config is checked against them); a plugin is
imported only when a site uses it. One that fails to import, or raises later, is isolated: its
station, channel or card stops, the log names the plugin and its package, the rest runs on.
The interface each group expects is written in docs/PLUGINS.md.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

SOURCES = "ecreteur.sources"
CHANNELS = "ecreteur.channels"
CARDS = "ecreteur.cards"

_LOGGER = logging.getLogger(__name__)


class PluginUnavailable(Exception):
    """A plugin named by the config is not installed, or failed to import."""


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {point.name: point for point in entry_points(group=group)}


def names(group: str) -> set[str]:
    """What the installed packages offer in ``group``, without importing them."""
    return set(_entry_points(group))


def describe(group: str, name: str) -> str:
    """``name`` and the package it comes from, as the log and error messages say it."""
    point = _entry_points(group).get(name)
    if point is None:
        return f"plugin {name!r} ({group})"
    package = point.dist.name if point.dist is not None else point.module
    return f"plugin {name!r} ({group}, package {package}, {point.value})"


@cache
def load(group: str, name: str) -> Any:
    """The object ``name`` points at; :class:`PluginUnavailable` says why it cannot be had."""
    point = _entry_points(group).get(name)
    if point is None:
        raise PluginUnavailable(f"no installed package offers {name!r} in {group}")
    try:
        return point.load()
    except Exception as err:  # a plugin's import error must not stop supervision
        _LOGGER.exception("%s failed to load", describe(group, name))
        why = f"{type(err).__name__}: {err}"
        raise PluginUnavailable(f"{describe(group, name)} failed to load: {why}") from err
