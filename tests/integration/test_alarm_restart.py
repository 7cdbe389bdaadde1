"""kill -9 of the supervision during a flood: the alarm journal survives, nothing is raised twice."""

from __future__ import annotations

import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from core.model import to_us, utcnow
from tests.conftest import eventually, free_port
from tests.integration.conftest import Process, simulator_process

SITE = """\
site: {{name: test}}
stations:
  - {{id: lauragais, name: Ganguise, endpoint: "opc.tcp://127.0.0.1:{port}/ecreteur/lauragais",
      publishing_interval_ms: 200, reconnect_max_delay_s: 1}}
tags:
  - {{id: lauragais.level, station: lauragais, node: "ns=2;s=Level", unit: m, label: {{fr: Niveau}}}}
alarms:
  - {{id: high, tags: lauragais.level, kind: limits, limits: {{H: {{value: 3.3}}}}}}
"""


def rows(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []


@pytest.mark.slow
async def test_alarm_journal_survives_kill_9(tmp_path: Path, process_peers: list[Process]) -> None:
    port = free_port()
    station = simulator_process(port, tmp_path / "logger")
    process_peers.append(station)
    await station.start()
    config = tmp_path / "site.yaml"
    config.write_text(SITE.format(port=port), encoding="utf-8")
    data = tmp_path / "data"
    journal, samples = data / "var" / "ecreteur.alarms.db", data / "var" / "ecreteur.db"
    args = [sys.executable, "-m", "core.cli", "monitor", "--config", str(config), "--data-dir", str(data)]

    first = Process(args, {}, ready="Ganguise")
    process_peers.append(first)
    await first.start()
    raised = "SELECT seq FROM alarm_events WHERE alarm = 'high:lauragais.level:H' AND action = 'raised'"
    await eventually(lambda: rows(journal, raised), what="the H alarm in the journal")
    first.kill()  # SIGKILL mid-flood

    restart = utcnow()
    second = Process(args, {}, ready="Ganguise")
    process_peers.append(second)
    await second.start()
    fresh = "SELECT count(*) FROM samples WHERE ts > ?"
    await eventually(
        lambda: rows(samples, fresh, to_us(restart))[0][0] > 20, what="acquisition after restart"
    )
    assert second.popen is not None
    second.popen.send_signal(signal.SIGTERM)
    assert second.popen.wait(timeout=30) == 0  # graceful stop on SIGTERM

    assert len(rows(journal, raised)) == 1  # restored, not raised a second time
    state = rows(journal, "SELECT status, active FROM alarm_state WHERE alarm = 'high:lauragais.level:H'")
    assert state == [("unacknowledged", 1)]
