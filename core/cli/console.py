"""A live terminal table of the site: the headless face of ``ecreteur demo`` and ``monitor``.

On a terminal it redraws in place; when the output is a file or a pipe (CI, journald) it
prints one plain line per station every few seconds instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from core.clock import Clock
from core.config.roles import dam_tags
from core.config.schema import SiteConfig
from core.model import AlarmStatus, ConnectionState, Quality
from core.runtime import Runtime

_COLUMNS = (("level", "Niveau"), ("inflow", "Entrant"), ("outflow", "Sortant"), ("rain", "Pluie"))
_LINK = {
    ConnectionState.CONNECTED: "en ligne",
    ConnectionState.BACKFILLING: "rattrapage",
    ConnectionState.CONNECTING: "connexion…",
    ConnectionState.DISCONNECTED: "HORS LIGNE",
    ConnectionState.STOPPED: "arrêtée",
}


def _value(runtime: Runtime, tag_id: str) -> str:
    sample = runtime.latest.get(tag_id)
    if sample is None:
        return "—"
    tag = runtime.config.tag(tag_id)
    if tag is None:
        return "—"
    if sample.quality is Quality.BAD or math.isnan(sample.value):
        return "invalide"
    text = f"{sample.value:.{tag.decimals}f} {tag.unit}".strip()
    return text if sample.quality is Quality.GOOD else f"{text} (?)"


def station_rows(runtime: Runtime) -> list[list[str]]:
    rows = []
    tz = ZoneInfo(runtime.config.site.timezone)
    for station in runtime.config.stations:
        status = runtime.stations.get(station.id)
        state = _LINK[status.state] if status else "—"
        roles = dam_tags(runtime.config, station.id)
        level = runtime.latest.get(roles.get("level", ""))
        when = level.ts.astimezone(tz).strftime("%H:%M:%S") if level else "—"
        rows.append(
            [station.name, *(_value(runtime, roles.get(key, "")) for key, _ in _COLUMNS), state, when]
        )
    return rows


_PRIORITY = {1: "CRITIQUE", 2: "HAUTE", 3: "MOYENNE", 4: "BASSE"}
_STATUS = {
    AlarmStatus.UNACK: "NON ACQUITTÉE",
    AlarmStatus.RTN_UNACK: "revenue, non acquittée",
    AlarmStatus.ACKED: "acquittée",
    AlarmStatus.SHELVED: "mise en attente",
    AlarmStatus.SUPPRESSED: "masquée (exploitation)",
    AlarmStatus.OUT_OF_SERVICE: "hors service",
}


def _alarm_lines(runtime: Runtime, limit: int = 8) -> list[str]:
    """The alarms an operator must see, most urgent unacknowledged first."""
    tz = ZoneInfo(runtime.config.site.timezone)
    lines = []
    for alarm in runtime.alarms.annunciated()[:limit]:
        since = alarm.since.astimezone(tz).strftime("%H:%M:%S") if alarm.since else "—"
        text = alarm.message("fr")
        if alarm.raised_value is not None and alarm.value is not None and not math.isnan(alarm.value):
            now = f"{alarm.value:.{alarm.decimals}f}"
            if now != f"{alarm.raised_value:.{alarm.decimals}f}":
                text += f" — maintenant {now} {alarm.unit}".rstrip()
        lines.append(f"{_PRIORITY[alarm.priority]:8} {_STATUS[alarm.state.status]:24} {since}  {text}")
    return lines


def _simulation(runtime: Runtime) -> str:
    """ " — simulation ×60, heure simulée 03/12 18:42:10" for a time-lapse, else nothing."""
    clock = runtime.clock
    if clock.speed == 1:
        return ""
    now = clock.now().astimezone(ZoneInfo(runtime.config.site.timezone)).strftime("%d/%m %H:%M:%S")
    return f" — simulation ×{clock.speed:g}, heure simulée {now}"


def _table(runtime: Runtime) -> Group:
    table = Table(title=runtime.config.site.name + _simulation(runtime))
    for header in ("Barrage", *(label for _, label in _COLUMNS), "Liaison", "Heure"):
        table.add_column(header)
    for row in station_rows(runtime):
        table.add_row(*row)
    alarms = _alarm_lines(runtime) or ["Aucune alarme."]
    return Group(table, Text("Alarmes :", style="bold"), *(Text(line) for line in alarms))


async def monitor(
    config: SiteConfig, config_path: Path, data_dir: Path, duration: float | None, clock: Clock | None = None
) -> None:
    """Run the pipeline and show it until Ctrl-C, SIGTERM or ``duration`` seconds (real ones)."""
    runtime = Runtime(config, config_path=config_path, data_dir=data_dir, clock=clock)
    await runtime.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    try:
        if sys.stdout.isatty():
            with Live(_table(runtime), console=Console(), refresh_per_second=2) as live:
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 0.5)
                    live.update(_table(runtime))
        else:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 2.0)
                if runtime.clock.speed != 1:
                    print(_simulation(runtime).removeprefix(" — "), flush=True)
                for row in station_rows(runtime):
                    print(" | ".join(row), flush=True)
                for line in _alarm_lines(runtime):
                    print("  alarme:", line, flush=True)
    finally:
        await runtime.stop()
