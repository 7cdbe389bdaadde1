"""Regenerate the README's screenshots: `python -m hmi.screenshots [FOLDER]` (default docs/screenshots).

Plays the 100-year flood on the three demo dams (in process, on a ×600 time-lapse clock as the
demo runs it), and in the middle of the flood (a dam past its very-high limit) grabs each view
in French and English, day and night themes, under whatever Qt platform is set (offscreen works).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from core.clock import started_now
from core.config import load_config
from core.runtime import Runtime
from core.sim.demo import demo_paging
from core.sim.mailbox import Mailbox
from core.sim.scenario import RESOURCES, load_dams, load_scenario
from core.sim.station import DamStation
from hmi import i18n
from hmi.style import THEMES
from hmi.window import MainWindow

SITE = RESOURCES / "sites" / "demo.yaml"


async def shoot(app: QApplication, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before anything runs)
    scenario, clock = load_scenario("flood-100y"), started_now(600)
    stations = [
        DamStation(d.station, d.parameters(), scenario, port=d.port, tick_s=0.1, clock=clock,
                   rain_factor=d.rain_factor, name=d.name)
        for d in load_dams().dams
    ]  # fmt: skip
    for station in stations:
        await station.start()
    with tempfile.TemporaryDirectory() as tmp:
        mailbox = Mailbox(Path(tmp) / "demo-mail")  # the demo pages its roster, as `ecreteur demo` does
        config = demo_paging(load_config(SITE), await mailbox.start())
        runtime = Runtime(config, config_path=SITE, data_dir=Path(tmp), clock=clock)
        await runtime.start()
        deadline = asyncio.get_running_loop().time() + 300
        while not any(a.kind == "HH" for a in runtime.alarms.annunciated()):  # the flood at its height
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("no dam reached its very-high limit in 300 s")
            await asyncio.sleep(0.2)
        first = runtime.alarms.annunciated()
        if first:
            runtime.alarms.acknowledge(first[-1].id, "Marie Dupont", "vanne de fond vérifiée")
        for language in ("fr", "en"):
            translator = i18n.install(app, language)
            for theme in ("day", "night"):
                settings = QSettings(str(Path(tmp) / "hmi.ini"), QSettings.Format.IniFormat)
                window = MainWindow(runtime, THEMES[theme], settings)
                window.operator_field.setText("Marie Dupont")
                window.resize(1400, 820)
                window.show()
                await window.overview.load_history()
                await window.dashboards.load_history()
                window.trends.show_tags(["lauragais.level", "lauragais.inflow", "lauragais.outflow"])
                window.trends.set_range(timedelta(hours=6))
                await window.paging.load()
                for view in ("overview", "synoptic", "alarms", "trends", "journal", "paging", "dashboards"):
                    window.tabs.setCurrentWidget(getattr(window, view))
                    await asyncio.sleep(0.5)
                    window.grab().save(str(folder / f"{view}-{language}-{theme}.png"))
                window.close()
            if translator is not None:
                app.removeTranslator(translator)
        await runtime.stop()
        await mailbox.stop()
    for station in stations:
        await station.stop()


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots")
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(shoot(app, folder))


if __name__ == "__main__":
    main()
