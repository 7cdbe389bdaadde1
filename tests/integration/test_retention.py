"""A server started with its clock years ahead deletes nothing of its history, and says so."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from core.api.metrics import Metrics, prometheus_text
from core.clock import LoopClock
from core.model import AlarmStatus, Sample, utcnow
from core.runtime import Runtime
from tests.conftest import eventually, free_port, site

RETENTION = "supervision:supervision:retention"


class AheadClock(LoopClock):
    """The server's clock set wrong, as libfaketime sets it: ``ahead`` past the true time."""

    def __init__(self, ahead: timedelta) -> None:
        super().__init__()
        self.ahead = ahead

    def now(self) -> datetime:
        return super().now() + self.ahead


def gauge_site() -> object:
    return site(
        [{"id": "dam", "endpoint": f"opc.tcp://127.0.0.1:{free_port()}/"}],  # nobody listens: no new data
        [{"id": "dam.level", "station": "dam", "node": "ns=2;s=Level", "unit": "m"}],
        storage={"retention_days": 365},
    )


async def test_a_server_started_with_its_clock_eleven_years_ahead_deletes_nothing(tmp_path: Path) -> None:
    """libfaketime +11 years deleted 4,136 of 4,136 samples as past retention."""
    config = gauge_site()
    t0 = utcnow().replace(microsecond=0) - timedelta(days=2)
    samples = [Sample("dam.level", t0 + timedelta(minutes=i), 10.0 + i / 1000) for i in range(2000)]
    first = Runtime(config, data_dir=tmp_path)  # type: ignore[arg-type]
    await first.start()
    await first.historian.write(samples)
    await first.stop()

    ahead = AheadClock(timedelta(days=11 * 365))
    runtime = Runtime(config, data_dir=tmp_path, clock=ahead)  # type: ignore[arg-type]
    await runtime.start()
    try:
        await eventually(lambda: runtime.retention_held, 60, "the purge refused")
        assert "ahead of its data" in runtime.retention_held
        kept = await runtime.historian.raw("dam.level", t0 - timedelta(days=1), t0 + timedelta(days=3))
        assert len(kept) == len(samples)
        alarm = runtime.alarms.view(RETENTION)
        assert alarm.status is AlarmStatus.UNACK and alarm.active
        assert "en avance de 96" in alarm.message_fr and "history purge suspended" in alarm.message_en
        assert "ecreteur_retention_held 1" in prometheus_text(runtime, Metrics())
    finally:
        await runtime.stop()
