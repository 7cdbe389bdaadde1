"""A site whose PLC tags are not named after their role gets full gauges once its tags say it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QSettings

from core.cli.console import station_rows
from core.config import load_config
from core.runtime import Runtime
from core.sim.scenario import load_dams, load_scenario
from core.sim.station import DamStation
from hmi.style import DAY
from hmi.window import MainWindow
from tests.conftest import eventually, free_port

SITE = """\
site: {name: Nommage automate}
stations:
  - {id: ganguise, name: Barrage de la Ganguise, endpoint: "@ENDPOINT@", reconnect_max_delay_s: 1}
tags:
  - {id: ganguise.lt101, station: ganguise, node: "ns=2;s=Level", role: level, unit: m, decimals: 2,
      range: [0, 20], label: {fr: Niveau LT101}}
  - {id: ganguise.ft201, station: ganguise, node: "ns=2;s=Inflow", role: inflow, unit: m³/s, decimals: 1,
      label: {fr: Débit FT201}}
  - {id: ganguise.ft301, station: ganguise, node: "ns=2;s=Outflow", role: outflow, unit: m³/s, decimals: 1,
      label: {fr: Débit FT301}}
  - {id: ganguise.rg1, station: ganguise, node: "ns=2;s=Rain", role: rain, unit: mm/h, decimals: 1,
      label: {fr: Pluviomètre}}
alarms:
  - {id: niveau, tags: ganguise.lt101, kind: limits, limits: {H: {value: 12.0}, HH: {value: 13.5}}}
"""


async def test_tags_named_otherwise_fill_the_overview_the_synoptic_and_the_terminal(
    tmp_path: Path, qtbot: object
) -> None:
    dam = load_dams().dams[0]
    station = DamStation("lauragais", dam.parameters(), load_scenario("flood-100y"), port=free_port(),
                         speed=600, tick_s=0.1)  # fmt: skip
    await station.start()
    site = tmp_path / "site.yaml"
    site.write_text(SITE.replace("@ENDPOINT@", station.endpoint), encoding="utf-8")
    runtime = Runtime(load_config(site), config_path=site, data_dir=tmp_path)
    await runtime.start()
    window = MainWindow(runtime, DAY, QSettings(str(tmp_path / "hmi.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    try:
        card = window.overview.cards["ganguise"]
        await eventually(lambda: card.gauge.value is not None, what="the level on the gauge")
        assert card.gauge.limits == {"H": 12.0, "HH": 13.5}
        for role in ("inflow", "outflow", "rain"):
            await eventually(lambda role=role: card.values[role].text() != "—", what=f"the {role}")
        assert card.values["inflow"].text().endswith("m³/s") and card.values["rain"].text().endswith("mm/h")
        drawing = window.synoptic.drawing
        drawing.show_station("ganguise")
        assert drawing.text_of("level").endswith(" m") and drawing.text_of("inflow").endswith("m³/s")
        assert drawing._level_range()[2] == {"H": 12.0, "HH": 13.5}
        row = station_rows(runtime)[0]
        assert row[0] == "Barrage de la Ganguise" and row[1].endswith(" m") and "—" not in row[1:4]
    finally:
        window.close()
        await runtime.stop()
        await station.stop()
        await asyncio.sleep(0)
