"""A dashboard card for the desktop: a tag's value as a horizontal bar, e.g. a rain intensity.

Options: ``max`` (the bar's full scale, default the tag's range or 100).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QProgressBar


class RainBar:
    def __init__(self, card: Any, runtime: Any) -> None:
        self.card, self.runtime = card, runtime
        tag = runtime.config.tag(card.tag) if card.tag else None
        full = card.options.get("max") or (tag.range[1] if tag is not None and tag.range else 100.0)
        self.scale = 10  # tenths
        self.widget = QProgressBar()
        self.widget.setObjectName("rain_bar")
        self.widget.setRange(0, int(float(full) * self.scale))
        self.unit = tag.unit if tag is not None else ""
        self.widget.setFormat(f"— {self.unit}")

    def on_samples(self, batch: Sequence[Any]) -> None:
        sample = self.runtime.latest.get(self.card.tag)
        if sample is None:
            return
        self.widget.setValue(int(min(sample.value, self.widget.maximum() / self.scale) * self.scale))
        self.widget.setFormat(f"{sample.value:.1f} {self.unit}")
