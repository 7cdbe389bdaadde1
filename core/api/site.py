"""The site as the web pages draw it: the dams with their level, limits and forecast, and who
is on call with the incidents paged. Read-only routes (the ``read`` scope).

No ``from __future__ import annotations`` (FastAPI reads annotations at run time).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI

from core.api import schemas as s
from core.config.roles import dam_tags
from core.model import ConnectionState, CrestForecast
from core.notify.roster import OnCall, Shift
from core.notify.store import OPEN, Incident
from core.runtime import Runtime
from core.storage.tokens import Token

API = "/api/v1"
_INCIDENTS = 30  # recent incidents shown beside the open ones


def add_site_routes(
    app: FastAPI,
    runtime: Runtime,
    need: Callable[[Any], Callable[..., Awaitable[Token]]],
    errors: dict[int | str, dict[str, Any]],
) -> None:
    config = runtime.config

    @app.get(
        f"{API}/dams",
        response_model=list[s.DamOut],
        responses=errors,
        summary="Each dam: level, limits, tags by role",
    )
    async def dams(_: Annotated[Token, Depends(need("read"))]) -> Any:
        out = []
        for station in config.stations:
            roles = dam_tags(config, station.id)
            level_tag = config.tag(roles["level"]) if "level" in roles else None
            level = None
            rate = eta = None
            if level_tag is not None:
                limits = runtime.alarms.limits(level_tag.id)
                level = s.DamLevel(tag=level_tag.id, unit=level_tag.unit, decimals=level_tag.decimals,
                                   range=level_tag.range, limits=limits)  # fmt: skip
                rate, eta = runtime.alarms.forecast(level_tag.id)
            status = runtime.stations.get(station.id)
            link = status.state.value if status else ConnectionState.DISCONNECTED.value
            units = {role: t.unit for role, tag in roles.items() if (t := config.tag(tag)) is not None}
            forecast = runtime.alarms.crest(station.id)
            if forecast is not None and forecast.rate_per_h is not None:
                rate = forecast.rate_per_h  # the forecast's own trend, on the grid it routes from
            crest = _crest(forecast)
            out.append(s.DamOut(id=station.id, name=station.name, link=link, level=level, tags=roles,
                                units=units, rate_per_h=rate, eta_min=eta, crest=crest))  # fmt: skip
        return out

    @app.get(
        f"{API}/oncall",
        response_model=s.OnCallOut,
        responses=errors,
        summary="Who is on call, and the incidents paged",
    )
    async def oncall(_: Annotated[Token, Depends(need("read"))]) -> Any:
        cascade = runtime.cascade
        if config.roster is None:
            return s.OnCallOut(configured=False, teams=[], incidents=[])
        roster, now = cascade.oncall if cascade is not None else OnCall(config.roster), runtime.clock.now()

        def shift(one: Shift) -> s.ShiftOut:
            return s.ShiftOut(person=one.person.name, start=one.start, end=one.end, reason=one.reason)

        teams = [
            s.TeamOut(id=t.id, name=t.name, now=shift(roster.shift(t.id, now)),
                      next=shift(roster.next_shift(t.id, now)))
            for t in config.roster.teams
        ]  # fmt: skip
        if cascade is None:  # a roster, but nobody is paged from this server
            return s.OnCallOut(teams=teams, incidents=[])
        store = cascade.store
        incidents = {i.id: i for i in store.incidents(OPEN)}
        for incident in store.recent(_INCIDENTS):
            incidents.setdefault(incident.id, incident)
        names = {p.id: p.name for p in config.roster.people}
        outbox = cascade.outbox
        down = {name: until for name in outbox.channels if (until := outbox.channel_down(name)) is not None}
        return s.OnCallOut(teams=teams, incidents=[incident_out(i, names) for i in incidents.values()],
                           channels_down=down)  # fmt: skip

    def incident_out(incident: Incident, names: dict[str, str]) -> s.IncidentOut:
        store = runtime.cascade.store  # type: ignore[union-attr]
        paged_alarms = store.alarms(incident.id)
        deliveries = [
            s.DeliveryOut(kind=d.kind, level=d.level, person=names.get(d.person, d.person), channel=d.channel,
                          state=d.state, attempts=d.attempts, detail=d.detail, created_at=d.created_at,
                          updated_at=d.updated_at)
            for d in sorted(store.deliveries(incident.id), key=lambda d: d.created_at)
        ]  # fmt: skip
        return s.IncidentOut(id=incident.id, policy=incident.policy, state=incident.state,
                             opened_at=incident.opened_at, level=incident.level, acked_by=incident.acked_by,
                             acked_at=incident.acked_at, closed_at=incident.closed_at,
                             alarms=[paged.alarm for paged in paged_alarms],
                             messages_fr=[paged.event.message_fr for paged in paged_alarms],
                             messages_en=[paged.event.message_en for paged in paged_alarms],
                             deliveries=deliveries)  # fmt: skip


def _crest(crest: CrestForecast | None) -> s.CrestOut | None:
    if crest is None:
        return None
    stops, more = crest.rain_stops, crest.rain_continues
    return s.CrestOut(
        ts=crest.ts,
        peak=stops.peak,
        peak_at=stops.peak_at,
        low=stops.low,
        high=stops.high,
        if_rain_continues=more.peak if more else None,
        if_rain_continues_at=more.peak_at if more else None,
        still_rising_at_horizon=bool(more and more.rising_at_horizon),
        fitted=crest.fitted,
        phe=crest.phe,
        phe_at=stops.when(crest.phe) if crest.phe is not None else None,
        phe_if_rain_continues_at=more.when(crest.phe) if more and crest.phe is not None else None,
    )
