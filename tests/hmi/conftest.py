"""The desktop on the real runtime, fed by our simulator over OPC-UA, under Qt's offscreen platform."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from core.config import load_config
from core.runtime import Runtime
from core.sim.scenario import load_dams, load_scenario
from core.sim.station import DamStation
from hmi.style import DAY
from hmi.window import MainWindow
from tests.conftest import REPO, away_from_the_demo, free_port


@pytest.fixture
async def desktop(tmp_path: Path, qtbot: object) -> AsyncIterator[tuple[MainWindow, Runtime, DamStation]]:
    """The main window on a one-dam site whose H limit the flood crosses within seconds."""
    dam = load_dams().dams[0]
    station = DamStation("lauragais", dam.parameters(), load_scenario("flood-100y"), port=free_port(),
                         speed=1200, tick_s=0.1)  # fmt: skip
    await station.start()
    demo = (REPO / "resources" / "sites" / "demo.yaml").read_text(encoding="utf-8")
    site = tmp_path / "site.yaml"
    site.write_text(
        # the other two dams have no station: ports nobody listens on, not the demo's
        away_from_the_demo(
            demo.replace("opc.tcp://127.0.0.1:4841/ecreteur/lauragais", station.endpoint)
        ).replace("{H: {value: 12.0}, HH: {value: 13.5}}", "{H: {value: 3.5}, HH: {value: 13.5}}"),
        encoding="utf-8",
    )
    runtime = Runtime(load_config(site), config_path=site, data_dir=tmp_path)
    await runtime.start()
    settings = QSettings(str(tmp_path / "hmi.ini"), QSettings.Format.IniFormat)
    window = MainWindow(runtime, DAY, settings)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    yield window, runtime, station
    window.close()
    await runtime.stop()
    await station.stop()
    await asyncio.sleep(0)
