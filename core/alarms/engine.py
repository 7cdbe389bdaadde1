"""The alarm engine: rules applied to every sample, the state machine driven, timers on a clock.

Configured rules expand into *alarms*, one per (rule, tag) and per limit for limit rules
(``level_limits:lauragais.level:HH``). For each sample the engine asks the evaluators whether
the condition holds, applies on- and off-delays with timers on the injected clock, feeds the
resulting events to the pure state machine, and carries out its actions: publish an
``AlarmEvent`` on the bus and record it in the journal. Operator commands (acknowledge,
shelve, modes that suppress by design) go through the same path, so every change is journaled
with who did it and why.

Why one file: it turns samples into alarm transitions, with their timers, on one clock; the pure
parts are apart already (rules.py, states.py, view.py, kpi.py) and the sentences are the
catalogue's.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import cast
from zoneinfo import ZoneInfo

from core import words
from core.alarms.forecast.forecaster import DamForecaster
from core.alarms.journal import AlarmJournal, StoredAlarm
from core.alarms.rules import (
    Access,
    BadQuality,
    ClockSkew,
    Communication,
    Discrete,
    Evaluator,
    Forecast,
    HighLimit,
    LowLimit,
    RateOfChange,
    Stale,
    Supervision,
)
from core.alarms.states import AlarmState, Event, transition
from core.alarms.view import AlarmView
from core.bus import ALARMS, BACKFILL, CRESTS, FORECASTS, SAMPLES, STATION_STATUS, Bus
from core.clock import Clock, Timer
from core.config.alarms import (
    AlarmRule,
    CommunicationRule,
    DiscreteRule,
    ForecastRule,
    LimitsRule,
    QualityRule,
    RateRule,
    StaleRule,
)
from core.config.roles import dam_tags
from core.config.schema import SiteConfig, Tag, matching
from core.model import (
    AlarmAction,
    AlarmEvent,
    AlarmStatus,
    ConnectionState,
    CrestForecast,
    ForecastValue,
    Priority,
    Sample,
    Situation,
    StationStatus,
)

_LOGGER = logging.getLogger(__name__)

# A time-lapse (the demo at ×60) compresses the process, not the transport: a station still
# updates once a real second, so staleness, link and clock checks keep their real-time meaning.
_LINK_KINDS = frozenset({"stale", "communication", "access", "clock"})
_FORECAST, _STALE = 1, 2  # Alarm.special


def _special(evaluator: Evaluator) -> int:
    return _FORECAST if isinstance(evaluator, Forecast) else _STALE if isinstance(evaluator, Stale) else 0


_LIMIT_PRIORITY = {"HHH": "critical", "HH": "critical", "H": "high", "L": "medium", "LL": "high"}
_MESSAGES = words.section("alarm")  # each kind's message; a rule may give its own
# A forecast alarm with no time left to give: the level got there, or stopped heading there.
_FORECAST_REACHED = _MESSAGES.pop("forecast_reached")
_FORECAST_EASED = _MESSAGES.pop("forecast_eased")
_FORECAST_TREND = _MESSAGES.pop("forecast_trend")  # without a crest forecast: the slope's guess
_FORECAST_CONTINUES = _MESSAGES.pop("forecast_continues")  # the rain-goes-on scenario has no crest to give
_MEASURED_KINDS = frozenset({"HHH", "HH", "H", "L", "LL", "rate", "forecast"})  # limits in the tag's unit
_LIMIT_KINDS = frozenset({"HHH", "HH", "H", "L", "LL"})
_REFUSALS = words.section("refusal")  # why a station refused us, as an alarm says it
# The supervision's own faults, alarmed on every site whatever its rules: an operator must see
# that the history is not being kept, or that its purge is held because the clock is wrong.
SUPERVISION = "supervision"  # the station id of these alarms (no configured station has it)
_SUPERVISION_ALARMS = {"historian": "high", "retention": "high"}
_SUPERVISION_RULE = QualityRule(id=SUPERVISION, tags=SUPERVISION, kind="quality")


@dataclass(slots=True)  # attribute reads are the sample loop's cost
class Alarm:
    """One alarm: its definition, evaluator, ISA-18.2 state and pending timers."""

    id: str
    rule: AlarmRule
    tag: str
    label_fr: str
    label_en: str
    unit: str
    decimals: int
    station: str  # the display name (messages); ``station_id`` is the key
    station_id: str
    priority: Priority
    limit: float | None
    evaluator: Evaluator
    messages: tuple[str, str]
    kind: str  # HH, H, L, LL, rate, forecast, stale, quality, discrete, communication, access, clock
    state: AlarmState = field(default_factory=AlarmState)
    detail: str = ""  # station alarms: what the link said (a refusal's reason and way out)
    fault: str = ""
    value: float | None = None
    since: datetime | None = None
    shelved_until: datetime | None = None
    ack_user: str = ""
    ack_ts: datetime | None = None
    raised_value: float | None = None
    shelved_by: str = ""
    shelved_reason: str = ""
    last_seen: datetime | None = None
    modes: set[str] = field(default_factory=set)
    delay: Timer | None = None
    delay_target: bool | None = None
    timer: Timer | None = None  # shelving expiry or staleness check
    zone: tzinfo = UTC  # the site's: the times a message gives
    sample_ts: datetime | None = None  # the last sample's station time (a forecast's "at")
    special: int = 0  # _FORECAST or _STALE: what the sample loop does beside the evaluator
    raised_rate: float | None = None  # a rate alarm's rate when it was raised (its message after)

    def stored(self) -> StoredAlarm:
        return StoredAlarm(
            self.id,
            self.state.status,
            self.state.active,
            self.since,
            self.shelved_until,
            self.ack_user,
            self.ack_ts,
            self.raised_value,
        )

    def view(self) -> AlarmView:
        """A frozen snapshot for the faces."""
        return AlarmView(
            id=self.id,
            tag=self.tag,
            station=self.station_id,
            station_name=self.station,
            kind=self.kind,
            priority=self.priority,
            status=self.state.status,
            active=self.state.active,
            value=self.value,
            raised_value=self.raised_value,
            limit=self.limit,
            since=self.since,
            acknowledged_by=self.ack_user,
            acknowledged_at=self.ack_ts,
            shelved_by=self.shelved_by if self.state.status is AlarmStatus.SHELVED else "",
            shelved_reason=self.shelved_reason if self.state.status is AlarmStatus.SHELVED else "",
            shelved_until=self.shelved_until,
            message_fr=self.message("fr"),
            message_en=self.message("en"),
        )

    def message(self, language: str) -> str:
        """The operator's text in ``language``, with the live rate or time to threshold.

        A limit alarm names the value that raised it (the value now is shown beside it): "very
        high: 15.08 m (limit 15.0)" stays true after the level went back down."""
        messages = self.messages
        extra: dict[str, object] = {}
        evaluator = self.evaluator
        decimals = self.decimals
        if isinstance(evaluator, RateOfChange) and evaluator.rate is not None:
            # live while it lasts; once over, the rate that raised it ("monte de -0,09" said nothing)
            rate = evaluator.rate if self.state.active or self.raised_rate is None else self.raised_rate
            extra["rate"] = words.number(rate, 2, language)
        if isinstance(evaluator, Forecast):
            messages = self._forecast_messages(evaluator, language, extra)
        template = messages[0] if language == "fr" else messages[1]
        raised = self.raised_value
        shown = raised if self.kind in _LIMIT_KINDS and raised is not None else self.value
        value = "—" if shown is None or math.isnan(shown) else words.number(shown, decimals, language)
        label = self.label_fr if language == "fr" else (self.label_en or self.label_fr)
        refusal = _REFUSALS.get(self.fault, _REFUSALS["other"])
        limit: object = self.limit
        if self.limit is not None and self.kind in _MEASURED_KINDS:
            limit = words.number(self.limit, 2 if self.kind == "rate" else decimals, language)
        fields = {
            "label": label,
            "value": value,
            "unit": self.unit,
            "limit": limit,
            "station": self.station,
            "detail": self.detail,
            "reason": refusal[0] if language == "fr" else refusal[1],
        }
        try:
            return template.format(**{**fields, "rate": "—", "eta": "—", "at": "—", "peak": "—",
                                      "peak_at": "—", **extra})  # fmt: skip
        except (KeyError, IndexError, ValueError):
            return template

    def _forecast_messages(
        self, forecast: Forecast, language: str, extra: dict[str, object]
    ) -> tuple[str, str]:
        """A forecast's sentence: when the crest forecast says the threshold is reached, else
        how long at the slope; once there or no longer heading there, it says that."""
        eta = forecast.prediction.eta_min
        reached = self.value is not None and self.limit is not None and self.value >= self.limit
        if eta is not None:
            extra["eta"] = words.span(eta * 60)
            if self.sample_ts is not None:
                extra["at"] = words.clock(self.sample_ts + timedelta(minutes=eta), self.zone)
        outlook = forecast.outlook()
        if outlook is not None and not forecast.by_trend:
            extra["peak"] = words.number(outlook.peak, self.decimals, language)
            extra["peak_at"] = words.clock(outlook.peak_at, self.zone)
        if self.messages is not _MESSAGES["forecast"]:
            return self.messages  # a site's wording is its own
        if reached:
            return _FORECAST_REACHED
        if eta is None:
            return _FORECAST_EASED
        if forecast.by_trend:
            return _FORECAST_TREND
        if forecast.crest is not None and outlook is not forecast.crest.rain_stops:
            return _FORECAST_CONTINUES
        return _MESSAGES["forecast"]


class AlarmEngine:
    """Evaluates the site's alarm rules. Call from the event loop (``async_`` style)."""

    def __init__(self, config: SiteConfig, bus: Bus, journal: AlarmJournal, clock: Clock) -> None:
        self.config = config
        self.bus = bus
        self.journal = journal
        self.clock = clock
        self.alarms: dict[str, Alarm] = {}
        self._by_tag: dict[str, list[Alarm]] = {}
        self._by_station: dict[str, list[Alarm]] = {}
        self.forecasts: dict[str, ForecastValue] = {}
        self.crests: dict[str, CrestForecast] = {}  # the latest per station
        self._dams: dict[str, DamForecaster] = {}  # by each tag a dam's forecast reads
        self._zone = ZoneInfo(config.site.timezone)
        self.rejected_samples = 0
        self._seen: dict[str, datetime] = {}  # per tag: the newest sample its rules evaluated
        self._warned: set[str] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self._build()

    # -- configuration --------------------------------------------------------------------

    def _build(self) -> None:
        tags = {tag.id: tag for tag in self.config.tags}
        tag_ids, known = list(tags), set(tags)
        station_ids = [station.id for station in self.config.stations]
        for rule in self.config.alarms:
            if isinstance(rule, CommunicationRule):
                for station_id in matching(rule.tags, station_ids):
                    self._add(rule, None, station_id, Communication(), None, "communication")
                    self._add(rule, None, station_id, Access(), None, "access", suffix="access")
                    bound = self.config.station(station_id).max_clock_skew_s
                    # link checks keep their real-time meaning in a time-lapse (see _LINK_KINDS)
                    skew = ClockSkew(bound * self.clock.speed)
                    self._add(rule, None, station_id, skew, bound, "clock", "low", "clock")
                continue
            for tag_id in matching(rule.tags, tag_ids, known):
                self._expand(rule, tags[tag_id])
        for kind, priority in _SUPERVISION_ALARMS.items():
            self._add(_SUPERVISION_RULE, None, SUPERVISION, Supervision(), None, kind, priority, kind)
        wall = time.monotonic if self.clock.speed > 1 else None  # a time-lapse: once a real second
        for station in self.config.stations:
            roles = dam_tags(self.config, station.id)
            if station.reservoir is not None and "level" in roles:
                dam = DamForecaster(station.id, station.reservoir, roles, wall)
                for tag_id in dam.inputs():
                    self._dams[tag_id] = dam

    def _expand(self, rule: AlarmRule, tag: Tag) -> None:
        if isinstance(rule, LimitsRule):
            for kind, limit in rule.limits.items():
                deadband = rule.deadband if limit.deadband is None else limit.deadband
                evaluator: Evaluator = (
                    HighLimit(limit.value, deadband)
                    if kind.startswith("H")
                    else LowLimit(limit.value, deadband)
                )
                priority = limit.priority or _LIMIT_PRIORITY[kind]
                self._add(rule, tag, tag.station, evaluator, limit.value, kind, priority, suffix=kind)
        elif isinstance(rule, RateRule):
            self._add(
                rule,
                tag,
                tag.station,
                RateOfChange(rule.rise_per_hour, rule.window_s),
                rule.rise_per_hour,
                "rate",
            )
        elif isinstance(rule, ForecastRule):
            evaluator = Forecast(rule.threshold, rule.horizon_min, rule.window_s, rule.scenario)
            self._add(rule, tag, tag.station, evaluator, rule.threshold, "forecast")
        elif isinstance(rule, StaleRule):
            stale = Stale(rule.max_age_s * self.clock.speed)  # see _LINK_KINDS
            self._add(rule, tag, tag.station, stale, rule.max_age_s, "stale")
        elif isinstance(rule, QualityRule):
            self._add(rule, tag, tag.station, BadQuality(), None, "quality")
        elif isinstance(rule, DiscreteRule):
            self._add(rule, tag, tag.station, Discrete(rule.state), rule.state, "discrete")

    def _add(
        self,
        rule: AlarmRule,
        tag: Tag | None,
        station: str,
        evaluator: Evaluator,
        limit: float | None,
        kind: str,
        priority: str | None = None,
        suffix: str = "",
    ) -> None:
        target = tag.id if tag else station
        alarm_id = f"{rule.id}:{target}" + (f":{suffix}" if suffix else "")
        messages = (rule.message.fr, rule.message.en or rule.message.fr) if rule.message else _MESSAGES[kind]
        name = "Supervision" if station == SUPERVISION else self.config.station(station).name
        alarm = Alarm(
            id=alarm_id,
            rule=rule,
            tag=target,
            label_fr=tag.label.fr if tag else name,
            label_en=tag.label.en if tag else name,
            unit=tag.unit if tag else "",
            decimals=tag.decimals if tag else 0,
            station=name,
            station_id=station,
            priority=Priority[(priority or rule.priority).upper()],
            limit=limit,
            evaluator=evaluator,
            messages=messages,
            kind=kind,
            state=AlarmState(latching=rule.latching),
            zone=self._zone,
            special=_special(evaluator),
        )
        self.alarms[alarm_id] = alarm
        index = self._by_station if tag is None else self._by_tag
        index.setdefault(target, []).append(alarm)

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Restore every alarm from the journal, then listen to the bus."""
        stored = await self.journal.load()
        now = self.clock.now()
        for alarm in self.alarms.values():
            saved = stored.get(alarm.id)
            if saved is not None:
                alarm.state = AlarmState(saved.status, saved.active, alarm.rule.latching)
                alarm.since, alarm.shelved_until = saved.since, saved.shelved_until
                alarm.ack_user, alarm.ack_ts = saved.ack_user, saved.ack_ts
                alarm.raised_value = saved.raised_value  # the messages keep naming it
                alarm.evaluator.prime(saved.active)
                if saved.status is AlarmStatus.SHELVED and saved.shelved_until is not None:
                    self._arm_shelving(alarm, (saved.shelved_until - now).total_seconds())
            if isinstance(alarm.evaluator, Stale):
                alarm.last_seen = now
                self._arm_stale(alarm, alarm.evaluator.max_age_s)
        self._unsubscribe = [
            self.bus.subscribe(SAMPLES, self.on_samples),
            self.bus.subscribe(BACKFILL, self.on_backfill),
            self.bus.subscribe(STATION_STATUS, self.on_station),
        ]

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for alarm in self.alarms.values():
            for timer in (alarm.delay, alarm.timer):
                if timer is not None:
                    timer.cancel()
        await self.journal.flush()

    # -- process side ---------------------------------------------------------------------

    def on_backfill(self, samples: Sequence[Sample]) -> None:
        """Values the station logged while we were away, oldest first: those newer than what
        the rules last saw are evaluated in their order, and what they change is dated by the
        station's time (a crossing during a server's outage is journaled when it happened)."""
        seen = self._seen
        fresh = [s for s in samples if s.tag in self._by_tag and (s.tag not in seen or s.ts > seen[s.tag])]
        if fresh:
            self.on_samples(sorted(fresh, key=lambda s: s.ts), dated=True)

    def on_samples(self, samples: Sequence[Sample], dated: bool = False) -> None:
        """The hot path (10,000 samples/s on a big site): type checks and the no-change case
        are inlined, an alarm's special handling is one int test (see tests/bench/bench_alarms.py)."""
        by_tag, dams, seen = self._by_tag, self._dams, self._seen
        for sample in samples:
            tag = sample.tag
            if dams:
                dam = dams.get(tag)
                if dam is not None:
                    self._crest(dam, sample)
            alarms = by_tag.get(tag)
            if alarms is None:
                continue
            seen[tag] = sample.ts
            value = sample.value
            kind = type(value)
            if kind is not float and kind is not int and (not isinstance(value, float | int) or kind is bool):
                self._reject(sample)
                continue
            if value != value:  # NaN
                self.rejected_samples += 1
            for alarm in alarms:
                want = alarm.evaluator.update(sample)
                if alarm.special:
                    if alarm.special == _FORECAST:
                        alarm.sample_ts = sample.ts
                        self._publish_forecast(alarm, cast(Forecast, alarm.evaluator), sample)
                    elif want is not None:
                        alarm.last_seen = self.clock.now()
                if want is None:
                    continue
                alarm.value = value
                if want == alarm.state.active and alarm.delay is None:
                    continue  # the usual case: nothing changes, nothing to cancel
                self._condition(alarm, want, sample.ts if dated else None)

    def _reject(self, sample: Sample) -> None:
        """A sample of the wrong type is counted and logged, never evaluated."""
        self.rejected_samples += 1
        if sample.tag not in self._warned:
            self._warned.add(sample.tag)
            _LOGGER.error("alarm engine: tag %s sent %r (%s), not a number; ignored", sample.tag,
                          sample.value, type(sample.value).__name__)  # fmt: skip

    def on_station(self, status: StationStatus) -> None:
        up = status.state in (ConnectionState.CONNECTED, ConnectionState.BACKFILLING)
        lost = status.state is ConnectionState.DISCONNECTED
        for alarm in self._by_station.get(status.station, ()):
            evaluator = alarm.evaluator
            if isinstance(evaluator, Access):
                if status.fault is not None:
                    alarm.detail, alarm.fault = status.detail, status.fault
                    self._condition(alarm, True)
                elif up:
                    self._condition(alarm, False)
            elif isinstance(evaluator, ClockSkew):
                if status.clock_skew_s is not None:
                    alarm.value = round(status.clock_skew_s)
                    self._condition(alarm, abs(status.clock_skew_s) > evaluator.max_skew_s)
            elif up or lost:
                self._condition(alarm, lost)

    def supervision(self, kind: str, active: bool, fault: str = "", value: float | None = None) -> None:
        """Raise or clear the supervision's own alarm ``kind`` (historian, retention); ``fault``
        names the reason (``words`` refusal section), ``value`` the figure its message gives."""
        alarm = self.alarms[f"{SUPERVISION}:{SUPERVISION}:{kind}"]
        if active:
            alarm.fault, alarm.value = fault, value
        self._condition(alarm, active)

    def _crest(self, dam: DamForecaster, sample: Sample) -> None:
        """Feed a dam's forecast; a new one reaches its forecast rules before this very sample."""
        try:
            crest = dam.offer(sample)
        except Exception:  # a forecast must never stop the alarms: they fall back to the slope
            _LOGGER.exception("crest forecast of %s failed; its forecast rules use the slope", dam.station)
            return
        if crest is None:
            return
        self.crests[dam.station] = crest
        for alarm in self._by_tag.get(crest.tag, ()):
            if isinstance(alarm.evaluator, Forecast):
                alarm.evaluator.crest = crest
        self.bus.publish(CRESTS, crest)

    def crest(self, station: str) -> CrestForecast | None:
        """The dam's latest crest forecast (None without a reservoir or before the first)."""
        return self.crests.get(station)

    def _publish_forecast(self, alarm: Alarm, forecast: Forecast, sample: Sample) -> None:
        prediction = forecast.prediction
        value = ForecastValue(
            alarm.id, alarm.tag, forecast.threshold, prediction.rate_per_h, prediction.eta_min, sample.ts
        )
        self.forecasts[alarm.id] = value
        self.bus.publish(FORECASTS, value)

    def _condition(self, alarm: Alarm, want: bool, at: datetime | None = None) -> None:
        """Apply on/off delays: the state machine only hears of a condition that lasted.
        ``at``: when it happened, for values read from a station's log (else now)."""
        if want == alarm.state.active:
            if alarm.delay is not None:
                alarm.delay.cancel()
                alarm.delay = alarm.delay_target = None
            return
        delay = alarm.rule.on_delay_s if want else alarm.rule.off_delay_s
        if alarm.kind in _LINK_KINDS:
            delay *= self.clock.speed
        if delay <= 0:
            self._apply(alarm, Event.ACTIVATE if want else Event.CLEAR, at=at)
        elif alarm.delay_target is not want:
            if alarm.delay is not None:
                alarm.delay.cancel()
            alarm.delay_target = want
            alarm.delay = self.clock.call_later(delay, lambda: self._delayed(alarm, want))

    def _delayed(self, alarm: Alarm, want: bool) -> None:
        alarm.delay = alarm.delay_target = None
        self._apply(alarm, Event.ACTIVATE if want else Event.CLEAR)

    def _arm_stale(self, alarm: Alarm, delay: float) -> None:
        alarm.timer = self.clock.call_later(delay, lambda: self._check_stale(alarm))

    def _check_stale(self, alarm: Alarm) -> None:
        assert isinstance(alarm.evaluator, Stale)
        max_age = alarm.evaluator.max_age_s
        age = (self.clock.now() - alarm.last_seen).total_seconds() if alarm.last_seen else max_age
        if age >= max_age - 1e-6:
            alarm.evaluator.active = True
            self._condition(alarm, True)
            self._arm_stale(alarm, max_age)
        else:
            self._arm_stale(alarm, max_age - age)

    # -- operator side --------------------------------------------------------------------

    def acknowledge(self, alarm_id: str, user: str, comment: str = "") -> bool:
        """Acknowledge one alarm; False if there was nothing to acknowledge."""
        return self._apply(self._get(alarm_id), Event.ACK, user, comment)

    def reset(self, alarm_id: str, user: str, comment: str = "") -> bool:
        return self._apply(self._get(alarm_id), Event.RESET, user, comment)

    def shelve(self, alarm_id: str, user: str, reason: str, duration: timedelta) -> bool:
        """Shelve for ``duration`` (at most the site's ``max_shelve_h``); a reason is required."""
        limit = timedelta(hours=self.config.alarm_settings.max_shelve_h)
        if duration <= timedelta(0) or duration > limit:
            raise ValueError(f"shelving lasts more than 0 and at most {limit}")
        if not reason.strip() or not user.strip():
            raise ValueError("shelving needs the operator's name and a reason")
        alarm = self._get(alarm_id)
        previous = (alarm.shelved_until, alarm.timer)
        alarm.shelved_until = self.clock.now() + duration
        if not self._apply(alarm, Event.SHELVE, user, reason):
            alarm.shelved_until, alarm.timer = previous
            return False
        if previous[1] is not None:
            previous[1].cancel()
        self._arm_shelving(alarm, duration.total_seconds())
        return True

    def unshelve(self, alarm_id: str, user: str, comment: str = "") -> bool:
        alarm = self._get(alarm_id)
        if alarm.timer is not None:
            alarm.timer.cancel()
        return self._unshelve(alarm, user, comment)

    def _arm_shelving(self, alarm: Alarm, delay: float) -> None:
        def expire() -> None:
            self._unshelve(alarm, "system", "shelving expired")

        alarm.timer = self.clock.call_later(delay, expire)

    def _unshelve(self, alarm: Alarm, user: str, comment: str) -> bool:
        alarm.timer = None
        if alarm.state.status is not AlarmStatus.SHELVED:
            return False
        alarm.shelved_until = None
        return self._apply(alarm, Event.UNSHELVE, user, comment)

    def set_mode(self, mode: str, station: str | None, on: bool, user: str, reason: str) -> list[str]:
        """Enter or leave a mode (e.g. ``maintenance`` of one station id, site-wide ``flood``).

        Alarms whose rule lists the mode in ``suppressed_in`` are suppressed by design while it
        lasts; every change is journaled with the user and the reason. Returns the alarms that
        changed. Call through ``core.site.operations``, which also keeps the mode across restarts.
        """
        if not reason.strip() or not user.strip():
            raise ValueError("a mode change needs the operator's name and a reason")
        changed = []
        for alarm in self._in_mode(mode, station):
            was = bool(alarm.modes)
            (alarm.modes.add if on else alarm.modes.discard)(mode)
            if bool(alarm.modes) != was:
                event = Event.SUPPRESS if on else Event.UNSUPPRESS
                if self._apply(alarm, event, user, f"{mode}: {reason}"):
                    changed.append(alarm.id)
        return changed

    def restore_mode(self, mode: str, station: str | None) -> None:
        """A mode in force before a restart: its alarms are already suppressed in the journal."""
        for alarm in self._in_mode(mode, station):
            alarm.modes.add(mode)

    def _in_mode(self, mode: str, station: str | None) -> list[Alarm]:
        return [
            alarm
            for alarm in self.alarms.values()
            if mode in alarm.rule.suppressed_in and (station is None or alarm.station_id == station)
        ]

    def remove_from_service(self, alarm_id: str, user: str, reason: str) -> bool:
        return self._apply(self._get(alarm_id), Event.REMOVE, user, reason)

    def return_to_service(self, alarm_id: str, user: str, reason: str = "") -> bool:
        return self._apply(self._get(alarm_id), Event.RESTORE, user, reason)

    def forecast(self, tag_id: str) -> tuple[float | None, float | None]:
        """The trend (units per hour) and minutes to the next forecast threshold of a tag."""
        for value in self.forecasts.values():
            if value.tag == tag_id:
                return value.rate_per_h, value.eta_min
        return None, None

    def situation(self, tag_id: str) -> Situation | None:
        """What a page says of a tag now: its last value, its trend and, on a dam's level, the
        crest forecast (or the slope's time to the nearest forecast threshold without one)."""
        alarms = self._by_tag.get(tag_id)
        if not alarms:
            return None
        tag = self.config.tag(tag_id)
        rate, eta = self.forecast(tag_id)
        crest = self.crests.get(tag.station) if tag is not None else None
        if crest is not None and crest.tag == tag_id:
            return Situation(alarms[0].value, alarms[0].decimals, crest.rate_per_h, crest.rain_stops)
        for alarm in alarms:
            if rate is None and isinstance(alarm.evaluator, RateOfChange):
                rate = alarm.evaluator.rate
        return Situation(alarms[0].value, alarms[0].decimals, rate, None, eta)

    def limits(self, tag_id: str) -> dict[str, float]:
        """The HH/H/L/LL limits configured for a tag (whatever rule or pattern set them)."""
        return {
            a.kind: a.limit
            for a in self._by_tag.get(tag_id, ())
            if isinstance(a.rule, LimitsRule) and a.limit is not None
        }

    def views(self) -> list[AlarmView]:
        """The read model: snapshots of the annunciated alarms, most urgent first."""
        return [alarm.view() for alarm in self.annunciated()]

    def view(self, alarm_id: str) -> AlarmView:
        return self._get(alarm_id).view()

    def annunciated(self) -> list[Alarm]:
        """Alarms an operator must see, most urgent and unacknowledged first, then newest."""
        shown = [a for a in self.alarms.values() if a.state.status is not AlarmStatus.NORMAL]
        unacked = (AlarmStatus.UNACK, AlarmStatus.RTN_UNACK)
        return sorted(
            shown,
            key=lambda a: (
                a.state.status not in unacked,
                a.priority,
                -(a.since.timestamp() if a.since else 0.0),
            ),
        )

    def _get(self, alarm_id: str) -> Alarm:
        try:
            return self.alarms[alarm_id]
        except KeyError:
            raise KeyError(f"unknown alarm {alarm_id!r}") from None

    # -- carrying out the state machine's actions -----------------------------------------

    def _apply(
        self, alarm: Alarm, event: Event, user: str = "", comment: str = "", at: datetime | None = None
    ) -> bool:
        new_state, actions = transition(alarm.state, event)
        if AlarmAction.REJECTED in actions:
            return False
        now = at or self.clock.now()
        alarm.state = new_state
        for action in actions:
            if action == AlarmAction.RAISED:
                alarm.since, alarm.ack_user, alarm.ack_ts = now, "", None
                alarm.raised_value = alarm.value
                if isinstance(alarm.evaluator, RateOfChange):
                    alarm.raised_rate = alarm.evaluator.rate
            elif action == AlarmAction.SHELVED:
                alarm.shelved_by, alarm.shelved_reason = user, comment
            elif action == AlarmAction.ACKNOWLEDGED:
                alarm.ack_user, alarm.ack_ts = user, now
            elif action in (AlarmAction.UNSHELVED, AlarmAction.SUPPRESSED, AlarmAction.REMOVED):
                alarm.shelved_until = None
            self._emit(alarm, action, now, user, comment)
        return True

    def _emit(self, alarm: Alarm, action: AlarmAction, now: datetime, user: str, comment: str) -> None:
        event = AlarmEvent(
            alarm=alarm.id,
            tag=alarm.tag,
            ts=now,
            action=action,
            status=alarm.state.status,
            active=alarm.state.active,
            priority=alarm.priority,
            value=alarm.value,
            limit=alarm.limit,
            message_fr=alarm.message("fr"),
            message_en=alarm.message("en"),
            user=user,
            comment=comment,
        )
        self.journal.record(event, alarm.stored())
        self.bus.publish(ALARMS, event)
