"""The public domain model shared by every part of Écrêteur.

A *station* is a dam's PLC/RTU reached over OPC-UA; a *tag* is one measured or commanded
variable of a station; a *sample* is one timestamped value of a tag with its quality. These
objects cross every boundary (bus, historian, HMI), so they are small, frozen and Qt-free.
All timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


class Quality(enum.IntEnum):
    """OPC-UA severity of a value, reduced to what an operator needs to see.

    Values are the two severity bits of an OPC-UA StatusCode (Part 4 §7.34), so the mapping is
    lossless for the severity and cheap to compute.
    """

    GOOD = 0
    UNCERTAIN = 1
    BAD = 2

    @classmethod
    def from_status_code(cls, code: int) -> Quality:
        severity = (code >> 30) & 0b11
        if severity == 0:
            return cls.GOOD
        if severity == 1:
            return cls.UNCERTAIN
        return cls.BAD


@dataclass(frozen=True, slots=True)
class Sample:
    """One value of one tag at one instant.

    ``ts`` is the source timestamp (when the station measured it); ``server_ts`` when the OPC-UA
    server or the REST API received it. ``status`` keeps the raw OPC-UA StatusCode so that
    diagnostics can show the exact reason behind a bad quality.
    """

    tag: str
    ts: datetime
    value: float
    quality: Quality = Quality.GOOD
    server_ts: datetime | None = None
    status: int = 0


class ConnectionState(enum.Enum):
    """Life cycle of the link to a station, as shown on the diagnostics view."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    BACKFILLING = "backfilling"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class StationStatus:
    """A change of a station's connection state, published on the bus.

    ``fault`` says why a person must act before the link can work (``certificate``, ``policy``,
    ``authentication``, ``secret``); ``clock_skew_s`` is the station's clock minus ours.
    """

    station: str
    state: ConnectionState
    ts: datetime
    detail: str = ""
    fault: str | None = None
    clock_skew_s: float | None = None
    reason: str = ""  # why, in words a person reads: an entry of words.yaml's ``outage`` section


@dataclass(frozen=True, slots=True)
class Bucket:
    """One time bucket of a downsampled history query."""

    start: datetime
    min: float
    max: float
    avg: float
    last: float
    count: int


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_us(ts: datetime) -> int:
    """Exact integer microseconds since the Unix epoch (no float rounding)."""
    return (ts - EPOCH) // _MICROSECOND


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC (never a naive datetime inside Écrêteur)."""
    return datetime.now(UTC)


def as_utc(ts: datetime) -> datetime:
    """Treat a naive datetime as UTC (as OPC-UA does) and convert an aware one to UTC."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


class Priority(enum.IntEnum):
    """Alarm priority (ISA-18.2); a lower number is more urgent, so sorting puts it first."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4


class AlarmStatus(enum.Enum):
    """Where an alarm stands in the ISA-18.2 state diagram."""

    NORMAL = "normal"
    UNACK = "unacknowledged"
    ACKED = "acknowledged"
    RTN_UNACK = "returned_unacknowledged"
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"
    OUT_OF_SERVICE = "out_of_service"


class AlarmAction(enum.StrEnum):
    """What happened to an alarm: the engine's outcome of a transition, and the word the journal,
    the bus and the API carry (a ``str``: ``AlarmAction.RAISED == "raised"``)."""

    RAISED = "raised"
    RETURNED = "returned"
    ACKNOWLEDGED = "acknowledged"
    RESET = "reset"
    SHELVED = "shelved"
    UNSHELVED = "unshelved"
    SUPPRESSED = "suppressed"
    UNSUPPRESSED = "unsuppressed"
    REMOVED = "removed"
    RESTORED = "restored"
    CONDITION = "condition"  # the condition changed while the alarm was not annunciated
    REJECTED = "rejected"  # the event makes no sense in this state: nothing changed


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One accepted transition of one alarm, as journaled and published on the bus.

    ``action`` says what happened (``raised``, ``returned``, ``acknowledged``, ``shelved``…);
    ``status`` and ``active`` are the alarm's state after it; ``user`` and ``comment`` record
    who did it and why for operator actions.
    """

    alarm: str
    tag: str
    ts: datetime
    action: AlarmAction
    status: AlarmStatus
    active: bool
    priority: Priority
    value: float | None = None
    limit: float | None = None
    message_fr: str = ""
    message_en: str = ""
    user: str = ""
    comment: str = ""
    # which server of the site journaled it (redundant servers); not part of what happened
    origin: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Outlook:
    """One scenario of a routed flood: its peak and band, and the predicted levels along the way."""

    start: datetime
    start_level: float
    step_s: float
    path: tuple[float, ...]  # the predicted level at start + (i + 1) · step_s
    peak: float  # m, the highest level still to come (the level now once past the peak)
    peak_at: datetime
    low: float  # the peak's band, from the fit's error on this event's inflow
    high: float
    rising_at_horizon: bool = False  # still rising where the forecast stops looking: a floor

    def when(self, level: float) -> datetime | None:
        """When this scenario's level first reaches ``level``: the start if it is there already,
        None if not within the horizon."""
        if self.start_level >= level:
            return self.start
        before = self.start_level
        for i, after in enumerate(self.path):
            if after >= level:
                share = (level - before) / (after - before) if after > before else 1.0
                return self.start + timedelta(seconds=self.step_s * (i + share))
            before = after
        return None


@dataclass(frozen=True, slots=True)
class CrestForecast:
    """A dam's predicted crest, routed through its own curves (``core/alarms/forecast``).

    ``rain_stops`` counts only the rain already fallen (a floor); ``rain_continues`` adds rain
    at the current rate until the horizon. ``fitted`` is False when the catchment's answer could
    not be learnt from this event yet: the inflow is then held at its present value.
    """

    station: str
    tag: str  # the level tag
    ts: datetime  # the station's time of the forecast
    level: float
    rate_per_h: float | None
    rain_stops: Outlook
    rain_continues: Outlook | None  # None while no rain falls: it would be the same
    fitted: bool
    phe: float | None = None  # the dam's highest safe level (PHE), when its config gives it


@dataclass(frozen=True, slots=True)
class Situation:
    """A tag's present as a page tells it: the value now, its trend, the dam's crest to come."""

    value: float | None
    decimals: int
    rate_per_h: float | None
    crest: Outlook | None = None  # the rain-already-fallen scenario of the dam's crest forecast
    eta_min: float | None = None  # without a crest forecast: the slope's minutes to a threshold


@dataclass(frozen=True, slots=True)
class ForecastValue:
    """The predicted time to a threshold, for the HMI to show beside a level."""

    alarm: str
    tag: str
    threshold: float
    rate_per_h: float | None
    eta_min: float | None
    ts: datetime
