"""The engine's sentences for people, from one catalogue a translator can read and edit.

``resources/i18n/words.yaml`` holds every operator- and on-call-facing sentence that core says
(alarm messages, pages, answers to the phone, voice prompts), French and English side by side;
the desktop's own words are Qt's catalogue. French is the default: any language but ``en``
gets it.
"""

from __future__ import annotations

import functools
from datetime import datetime, tzinfo
from typing import Any

from ruamel.yaml import YAML

from core.paths import resources

Pair = tuple[str, str]  # (French, English) templates


@functools.cache
def catalogue() -> dict[str, dict[str, dict[str, str]]]:
    """Section → entry → language → template, as the file says it (read once)."""
    with (resources() / "i18n" / "words.yaml").open(encoding="utf-8") as handle:
        loaded: dict[str, dict[str, dict[str, str]]] = YAML(typ="safe").load(handle)
    return loaded


def pair(key: str) -> Pair:
    """The French and English templates of ``section.entry`` (a missing entry raises KeyError)."""
    section, entry = key.split(".", 1)
    texts = catalogue()[section][entry]
    return texts["fr"], texts["en"]


def section(name: str) -> dict[str, Pair]:
    """Every entry of a section, e.g. each alarm kind's message."""
    return {entry: (texts["fr"], texts["en"]) for entry, texts in catalogue()[name].items()}


def say(key: str, language: str, **fields: Any) -> str:
    """The sentence ``key`` in ``language`` (French unless ``en``), its {fields} filled in."""
    french, english = pair(key)
    return (english if language == "en" else french).format(**fields)


def number(value: float, decimals: int, language: str) -> str:
    """A figure as the reader writes it: ``12,50`` in French, ``12.50`` in English."""
    text = f"{value:.{decimals}f}"
    return text if language == "en" else text.replace(".", ",")


def span(seconds: float) -> str:
    """A duration as a person says it: "45 s", "16 min", "1 h 5 min" (the same in both languages)."""
    if seconds < 60:
        return f"{max(round(seconds), 1)} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def clock(when: datetime, zone: tzinfo) -> str:
    """A time of day on the site's clock, "14:20"."""
    return when.astimezone(zone).strftime("%H:%M")


def outage(reason: str, language: str, period_s: float = 0.0) -> str:
    """Why a station's link is as it is, in words (``reason``: a StationStatus's); "" if unknown."""
    try:
        return say(f"outage.{reason}", language, period=span(period_s))
    except KeyError:
        return ""
