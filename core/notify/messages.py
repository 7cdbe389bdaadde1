"""The words of a page, in the person's language: short for SMS, complete for e-mail, plain for voice.

A page names the dam and the alarm, says the level now with its unit, its trend, the crest the
dam's forecast expects and when (site time), how many others were paged, and ends with the
code to acknowledge (``OK 12``). An SMS is folded into GSM-7 and kept to two segments, its
least needed parts dropped first: a third of a person's phone bill is not worth a detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from core import words
from core.model import Priority, Situation
from core.notify import gsm

SMS_SEGMENTS = 2


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
    now: Situation | None = None  # the tag's present: value, trend, crest to come

    def message(self, language: str) -> str:
        return self.message_en if language == "en" and self.message_en else self.message_fr


def _text(language: str) -> dict[str, str]:
    """The page's sentences in ``language`` (French unless ``en``), from the catalogue."""
    index = 1 if language == "en" else 0
    return {entry: texts[index] for entry, texts in words.section("page").items()}


def facts(line: AlarmLine, language: str, zone: tzinfo) -> list[str]:
    """What the alarm's message does not already say: the value now, the trend, the crest."""
    said, now = _text(language), line.now
    if now is None:
        return []
    found = []
    if now.value is not None and now.value != line.value:  # the message gave the value that raised it
        found.append(
            said["now"].format(value=words.number(now.value, now.decimals, language), unit=line.unit)
        )
    if now.rate_per_h is not None:
        rate = words.number(now.rate_per_h, 2, language)
        found.append(said["trend"].format(rate=rate if now.rate_per_h < 0 else f"+{rate}", unit=line.unit))
    crest = now.crest
    if crest is not None and crest.peak > crest.start_level:
        found.append(
            said["crest"].format(
                peak=words.number(crest.peak, now.decimals, language),
                unit=line.unit,
                at=words.clock(crest.peak_at, zone),
            )
        )
    elif now.eta_min is not None:
        found.append(said["eta"].format(eta=words.span(now.eta_min * 60)))
    return found


def _details(line: AlarmLine, language: str, zone: tzinfo) -> str:
    return ", ".join([line.message(language), *facts(line, language, zone)])


def _priority(language: str, line: AlarmLine) -> str:
    return words.say(f"priority.{line.priority.name.lower()}", language)


def _worst(lines: list[AlarmLine]) -> AlarmLine:
    return min(lines, key=lambda line: line.priority)


def _others(n: int, language: str) -> str:
    return _text(language)["others" if n > 1 else "other"].format(n=n) if n else ""


def sms(
    code: str, lines: list[AlarmLine], language: str, zone: tzinfo, others: int = 0, room: int | None = None
) -> str:
    """Short, in GSM-7: the worst alarm first, then what fits of the facts, the others paged and
    how many more alarms, and always how to acknowledge; ``room`` septets at most (two segments)."""
    said = _text(language)
    room = gsm.PART * SMS_SEGMENTS if room is None else room
    worst = _worst(lines)
    head = gsm.fold(f"[{code}] {_priority(language, worst)} {worst.message(language)}")
    tail = gsm.fold(f". {said['ack_hint'].format(code=code)}")
    optional = [*facts(worst, language, zone), _others(others, language)]
    if len(lines) > 1:
        optional.append(said["more"].format(n=len(lines) - 1))
    if gsm.septets(head + tail) > room:  # the alarm's own words are cut, never the way to acknowledge
        head = gsm.cut(head, max(room - gsm.septets(tail) - 3, 10)) + "..."
    text = head
    for part in (gsm.fold(p) for p in optional if p):
        if gsm.septets(text + ", " + part + tail) <= room:
            text += ", " + part
    return text + tail


def email(
    code: str, lines: list[AlarmLine], language: str, opened: datetime, zone: ZoneInfo, others: int = 0
) -> tuple[str, str]:
    words = _text(language)
    worst = _worst(lines)
    priority = _priority(language, worst)
    subject = words["subject"].format(priority=priority, station=worst.station, code=code)
    body = [words["intro"].format(code=code, time=opened.astimezone(zone).strftime("%d/%m/%Y %H:%M %Z")), ""]
    for line in sorted(lines, key=lambda line: line.priority):
        body.append(f"- {_priority(language, line)}: {_details(line, language, zone)}")
    if others:
        body += ["", _others(others, language)]
    body += ["", words["footer"].format(code=code)]
    return subject, "\n".join(body) + "\n"


def voice(code: str, lines: list[AlarmLine], language: str, zone: tzinfo) -> str:
    spoken = ". ".join(
        _details(line, language, zone).replace(" — ", ", ")
        for line in sorted(lines, key=lambda line: line.priority)
    )
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
