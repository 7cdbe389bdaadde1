"""Config models of the notification cascade: who is on call, how alarms escalate, by what means.

``roster`` says who exists and who is on call when (weekly rotations in the site's local time,
with overrides for holidays and swaps); ``escalation`` routes alarms to policies of levels;
``notify`` holds the SMTP and Twilio accounts, whose passwords are keyring references only.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from core.config.base import IDENT, PriorityName, Secret
from core.config.base import StrictModel as _Model

E164 = r"^\+[1-9][0-9]{6,14}$"
EMAIL = r"^[^@\s]+@[^@\s]+$"
TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
ACCOUNT_SID = r"^AC[0-9a-fA-F]{32}$"


class BuiltIn(enum.StrEnum):
    """The channels Écrêteur brings; a plugin's channel is declared in ``notify.channels`` and
    named by its own word."""

    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"


BUILT_IN_CHANNELS = tuple(BuiltIn)
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Person(_Model):
    id: str = Field(pattern=IDENT)
    name: str
    phone: str | None = Field(None, pattern=E164, description="E.164, e.g. +33612345678")
    email: str | None = Field(None, pattern=EMAIL)
    language: Literal["fr", "en"] = "fr"
    contacts: dict[str, str] = Field(
        default_factory=dict,
        description="an address per plugin channel, e.g. {chat: '@alice'}; default: the person's name",
    )


class Handoff(_Model):
    """When one week's on-call hands over to the next, in the roster's local time."""

    day: Weekday = "monday"
    time: str = Field("08:00", pattern=TIME_OF_DAY)


class Override(_Model):
    """``person`` is on call instead of the rotation from ``start`` to ``end`` (local times)."""

    person: str
    start: datetime
    end: datetime
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end <= self.start:
            raise ValueError("`end` must be after `start`")
        return self


class Team(_Model):
    id: str = Field(pattern=IDENT)
    name: str
    members: list[str] = Field(min_length=1, description="person ids, in rotation order")
    rotation_start: date = Field(description="the day the first member's first week begins")
    handoff: Handoff = Handoff()
    overrides: list[Override] = Field(default_factory=list)


class Roster(_Model):
    timezone: str = "Europe/Paris"
    people: list[Person] = Field(min_length=1)
    teams: list[Team] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris") from err
        return value


class Target(_Model):
    """Exactly one of: the on-call person of a team, a named person, every member of a team."""

    oncall: str | None = None
    person: str | None = None
    team: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Target:
        if sum(value is not None for value in (self.oncall, self.person, self.team)) != 1:
            raise ValueError("give exactly one of `oncall` (a team), `person` or `team`")
        return self


class Level(_Model):
    targets: list[Target] = Field(min_length=1)
    channels: list[str] = Field(
        min_length=1, description="email, sms, voice or a notify.channels id, tried in this order"
    )
    channel_step_min: float = Field(5.0, ge=0, le=1440, description="wait before the next channel")
    delay_min: float = Field(15.0, gt=0, le=1440, description="wait before the next level")

    @model_validator(mode="after")
    def _channels_fit(self) -> Level:
        """A channel due after the level's delay would never be tried: say so at load time."""
        last = self.channel_step_min * (len(self.channels) - 1)
        if last >= self.delay_min:
            raise ValueError(
                f"the last channel ({self.channels[-1]}) would come {last:g} min into the level, "
                f"not before its delay_min of {self.delay_min:g} min: shorten channel_step_min "
                "or lengthen delay_min"
            )
        return self


class Policy(_Model):
    id: str = Field(pattern=IDENT)
    levels: list[Level] = Field(min_length=1)
    repeat: int = Field(1, ge=1, le=20, description="times the whole list of levels is run")


class Route(_Model):
    """Alarms matching every given criterion go to ``policy``; the first matching route wins."""

    policy: str
    priorities: list[PriorityName] | None = None
    stations: list[str] | None = None
    tags: str | None = Field(None, description="a tag id or pattern such as *.level")


class Escalation(_Model):
    routes: list[Route] = Field(min_length=1)
    policies: list[Policy] = Field(min_length=1)
    group_window_s: float = Field(60.0, ge=0, le=3600, description="alarms raised this close join one page")
    retries: int = Field(3, ge=0, le=10, description="extra attempts on 429, 5xx or a network error")
    retry_base_s: float = Field(2.0, gt=0, le=300)
    channel_down_s: float = Field(300.0, ge=0, le=86_400, description="skip a failed channel this long")


class Smtp(_Model):
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: Secret | None = None
    sender: str = Field(pattern=EMAIL)
    timeout_s: float = Field(10.0, gt=0, le=120)
    ca_file: str | None = Field(None, description="PEM bundle to trust instead of the system one")


class Twilio(_Model):
    account_sid: str = Field(pattern=ACCOUNT_SID)
    auth_token: Secret
    from_number: str = Field(pattern=E164)
    public_url: str = Field(description="the https URL at which Twilio reaches this server's API")
    api_base: str = Field("https://api.twilio.com", description="changed only for tests and proxies")
    timeout_s: float = Field(10.0, gt=0, le=120)

    @field_validator("public_url", "api_base")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("expected an http(s) URL such as https://scada.example.org")
        return value.rstrip("/")


class PluginChannel(_Model):
    """A paging channel offered by a plugin (``ecreteur.channels`` entry point), e.g. a chat webhook."""

    id: str = Field(pattern=IDENT, description="the name levels use in `channels`")
    plugin: str = Field(description="the entry point's name, e.g. signed_webhook")
    settings: dict[str, Any] = Field(
        default_factory=dict, description="the plugin's own settings; `!secret name` for its secrets"
    )


class Notify(_Model):
    smtp: Smtp | None = None
    twilio: Twilio | None = None
    channels: list[PluginChannel] = Field(default_factory=list, description="channels offered by plugins")
