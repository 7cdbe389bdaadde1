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
from core.runtime import Runtime
from core.storage.tokens import Token

API = "/api/v1"


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
        return s.OnCallOut.model_validate(runtime.oncall(), from_attributes=True)


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
