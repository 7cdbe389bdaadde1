"""A dashboard card drawn by a plugin (``ecreteur.cards`` entry point), kept from harming the rest.

The plugin's class is built as ``Card(card, runtime)``; it has a ``widget`` (a QWidget) and an
``on_samples(batch)`` method (docs/PLUGINS.md). If it fails to load, to build or to update, the
card shows why in its place, the log names the plugin once, and every other card runs on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from core.config.dashboards import Card
from core.model import Sample
from core.plugins import CARDS, PluginUnavailable, describe, load
from hmi.i18n import tr

_LOGGER = logging.getLogger(__name__)


class PluginCard:
    """Holds the plugin's card, or the sentence that replaces it."""

    def __init__(self, card: Card, runtime: Any) -> None:
        self.described = describe(CARDS, card.type)
        self.plugin: Any = None
        try:
            self.plugin = load(CARDS, card.type)(card, runtime)
            widget = self.plugin.widget
            if not isinstance(widget, QWidget):
                raise TypeError(f"its widget is a {type(widget).__name__}, not a QWidget")
            self.widget: QWidget = widget
        except PluginUnavailable as err:
            self._fail(str(err), logged=True)
        except Exception as err:
            _LOGGER.exception("%s raised while building its card", self.described)
            self._fail(f"{self.described}: {type(err).__name__}: {err}", logged=True)

    def _fail(self, why: str, logged: bool = False) -> None:
        if not logged:
            _LOGGER.error("%s", why)
        self.plugin = None
        label = QLabel(tr("Card unavailable: {why}").format(why=why))
        label.setObjectName("plugin_failed")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.widget = label

    def on_samples(self, batch: Sequence[Sample]) -> QWidget | None:
        """Feed the plugin; on its first failure, the widget that now stands in its place."""
        if self.plugin is None:
            return None
        try:
            self.plugin.on_samples(batch)
        except Exception as err:
            _LOGGER.exception("%s raised while updating its card; it stops", self.described)
            self._fail(f"{self.described}: {type(err).__name__}: {err}", logged=True)
            return self.widget
        return None
