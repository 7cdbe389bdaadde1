"""The words of a page, in the person's language: short for SMS, complete for e-mail, plain for voice.

A page names the dam, the alarm, the value, the trend and the predicted time to crest when a
forecast rule computes one, and ends with the code to acknowledge (``OK 12``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core import words
from core.model import Priority


@dataclass(frozen=True, slots=True)
class AlarmLine:
    """One alarm of an incident as the messages show it."""

    alarm: str
    station: str
    priority: Priority
    message_fr: str
    message_en: str
    value: float | None
    unit: str
    rate_per_h: float | None = None  # the tag's current trend
    eta_min: float | None = None  # predicted minutes to the next threshold, when forecast

    def message(self, language: str) -> str:
        return self.message_en if language == "en" and self.message_en else self.message_fr


def _text(language: str) -> dict[str, str]:
    """The page's sentences in ``language`` (French unless ``en``), from the catalogue."""
    index = 1 if language == "en" else 0
    return {entry: texts[index] for entry, texts in words.section("page").items()}


def _details(line: AlarmLine, language: str) -> str:
    words = _text(language)
    parts = [line.message(language)]
    if line.rate_per_h is not None:
        parts.append(words["trend"].format(rate=line.rate_per_h, unit=line.unit))
    if line.eta_min is not None:
        parts.append(words["eta"].format(eta=line.eta_min))
    return ", ".join(parts)


def _priority(language: str, line: AlarmLine) -> str:
    return words.say(f"priority.{line.priority.name.lower()}", language)


def _worst(lines: list[AlarmLine]) -> AlarmLine:
    return min(lines, key=lambda line: line.priority)


def sms(code: str, lines: list[AlarmLine], language: str) -> str:
    """Short: the worst alarm first, how many more, and how to acknowledge."""
    words = _text(language)
    worst = _worst(lines)
    text = f"[{code}] {_priority(language, worst)} {_details(worst, language)}"
    if len(lines) > 1:
        text += f" ({words['more'].format(n=len(lines) - 1)})"
    return f"{text}. {words['ack_hint'].format(code=code)}"


def email(
    code: str, lines: list[AlarmLine], language: str, opened: datetime, zone: ZoneInfo
) -> tuple[str, str]:
    words = _text(language)
    worst = _worst(lines)
    priority = _priority(language, worst)
    subject = words["subject"].format(priority=priority, station=worst.station, code=code)
    body = [words["intro"].format(code=code, time=opened.astimezone(zone).strftime("%d/%m/%Y %H:%M %Z")), ""]
    for line in sorted(lines, key=lambda line: line.priority):
        body.append(f"- {_priority(language, line)}: {_details(line, language)}")
    body += ["", words["footer"].format(code=code)]
    return subject, "\n".join(body) + "\n"


def voice(code: str, lines: list[AlarmLine], language: str) -> str:
    spoken = ". ".join(_details(line, language) for line in sorted(lines, key=lambda line: line.priority))
    return _text(language)["voice"].format(alarms=spoken)


def acknowledged(code: str, user: str, at: datetime, zone: ZoneInfo, language: str) -> tuple[str, str]:
    words, clock = _text(language), at.astimezone(zone).strftime("%H:%M")
    return words["acked_subject"].format(code=code, user=user), words["acked"].format(
        code=code, user=user, time=clock
    )


def late(seconds: float, language: str) -> str:
    """Said first in a page sent after its time (a stall, a restart, a failover): how late."""
    return _text(language)["late"].format(late=span(seconds))


span = words.span  # durations are said the same way everywhere


def cleared(code: str, at: datetime, zone: ZoneInfo, language: str) -> tuple[str, str]:
    words, clock = _text(language), at.astimezone(zone).strftime("%H:%M")
    return words["cleared_subject"].format(code=code), words["cleared"].format(code=code, time=clock)
