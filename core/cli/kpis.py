"""``ecreteur kpis``: the alarm-system figures of a period, read from the journal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.alarms.kpi import AlarmKpis, compute_kpis
from core.config.schema import SiteConfig
from core.model import utcnow
from core.runtime import Runtime


async def print_kpis(config: SiteConfig, data_dir: Path, hours: float, operators: int) -> None:
    journal = Runtime(config, data_dir=data_dir).journal
    await journal.start()
    try:
        end = utcnow()
        start = end - timedelta(hours=hours)
        events = await journal.events(start, end, limit=10_000_000)
        kpis = compute_kpis(events, (await journal.load()).values(), start, end, operators)
    finally:
        await journal.stop()
    print(render(kpis))


def render(k: AlarmKpis) -> str:
    lines = [
        f"Period: {k.start:%Y-%m-%d %H:%M} – {k.end:%Y-%m-%d %H:%M} UTC",
        f"Alarms raised: {k.raised}",
        f"Average per operator per 10 min: {k.per_operator_per_10min:.2f} (EEMUA 191: ≤ 1 acceptable)",
        f"Maximum in a 10-min window: {k.max_per_10min}",
        f"Time in flood (> 10 alarms / 10 min): {k.flood_share:.0%}",
        *(f"  flood {f.start:%H:%M}–{f.end:%H:%M} UTC: {f.alarms} alarms" for f in k.floods),
        f"Chattering (≥ 3 in 1 min): {', '.join(k.chattering) or 'none'}",
        f"Standing for more than 24 h: {', '.join(k.stale) or 'none'}",
        "Most frequent: " + (", ".join(f"{alarm} ({count})" for alarm, count in k.top10) or "none"),
        "Priorities: " + (", ".join(f"{name} {share:.0%}" for name, share in k.priorities.items()) or "none"),
    ]
    return "\n".join(lines)
