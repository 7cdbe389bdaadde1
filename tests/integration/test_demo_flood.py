"""The demo tells a flood's story in the right order, on simulated time (issue 17, item 1).

``ecreteur demo --headless --speed 600`` runs the simulator's stations as their own process,
stamping simulated time, and the supervision on the same clock: a 15-minute rate window then
sees physical rates, so for each dam the journal reads rate of rise and the HH forecast first,
then H, then HH, as the virtual-time tests say it must.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.children import spawn
from core.cli.common import DEMO_SITE
from core.config import load_config
from core.model import AlarmEvent
from core.storage.select import build_journal
from tests.conftest import DEMO_PORTS_TIMEOUT

REPO = Path(__file__).resolve().parents[2]
DAMS = ("lauragais", "cevennes", "corbieres")


async def _journal(data_dir: Path) -> list[AlarmEvent]:
    journal = build_journal(load_config(DEMO_SITE).storage, data_dir)
    await journal.start()
    try:
        start, end = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        return sorted(await journal.events(start, end, limit=100_000), key=lambda e: e.ts)
    finally:
        await journal.stop()


@DEMO_PORTS_TIMEOUT
@pytest.mark.usefixtures("demo_ports")
def test_each_dam_warns_by_rate_and_forecast_before_h_and_h_before_hh(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "core.cli", "demo", "--headless", "--speed", "600",
               "--duration", "90", "--data-dir", str(tmp_path)]  # fmt: skip
    demo = spawn(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = demo.communicate(timeout=400)  # 90 s of demo, plus a loaded machine's start
    finally:
        demo.kill()
    assert demo.returncode == 0, output[-3000:]
    assert "simulation ×600, heure simulée" in output  # the screen says it is a time-lapse
    raised = {}
    for event in asyncio.run(_journal(tmp_path)):
        if event.action == "raised":
            raised.setdefault(event.alarm, event.ts)
    for dam in DAMS:
        level = f"{dam}.level"
        rate, forecast = raised.get(f"level_rise:{level}"), raised.get(f"forecast_{dam}:{level}")
        high, very_high = raised.get(f"level_{dam}:{level}:H"), raised.get(f"level_{dam}:{level}:HH")
        assert None not in (rate, forecast, high, very_high), (dam, raised)
        assert rate < high and forecast < high, (dam, rate, forecast, high)  # type: ignore[operator]
        assert high < very_high, (dam, high, very_high)  # type: ignore[operator]
        # simulated time: the flood's hours are hours in the journal, not the real minute it took
        assert (very_high - rate).total_seconds() > 3600, (dam, rate, very_high)  # type: ignore[operator]
    # the demo pages its on-call roster as a site would, into its own mailbox: each page names its dam
    pages = sorted((tmp_path / "demo-mail").glob("*.eml"))
    assert pages, output[-3000:]
    subjects = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"] for p in pages
    ]
    assert any("Barrage" in subject for subject in subjects), subjects
    assert "on-call pages (e-mail) land in" in output
