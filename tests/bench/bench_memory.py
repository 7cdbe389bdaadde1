"""Where the desktop's memory goes (run by hand; figures in docs/PERFORMANCE.md).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_memory.py asyncio|qasync [window] [historian]

Plays one simulated hour of 1,000 tags at 1 Hz through the bus of a started runtime (20
unreachable stations), on a plain asyncio loop or on qasync, optionally with the main window, or
through the SQLite historian alone (``historian``), and prints the growth of resident memory
every 10 simulated minutes. The same load on different set-ups tells which part keeps memory.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from core.bus import SAMPLES  # noqa: E402
from core.model import Sample, utcnow  # noqa: E402
from core.runtime import Runtime  # noqa: E402
from core.storage.sqlite import SQLiteHistorian  # noqa: E402
from tests.bench.bench_hmi import big_site  # noqa: E402

SECONDS = 3600


async def play(window: bool, historian_only: bool) -> None:
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(big_site(), data_dir=Path(tmp))
        tags = [tag.id for tag in runtime.config.tags]
        if historian_only:
            store = SQLiteHistorian(Path(tmp) / "alone.db")
            await store.start()

            def publish(batch: list[Sample]) -> None:
                store.submit(batch)
        else:
            await runtime.start()
            store = runtime.historian

            def publish(batch: list[Sample]) -> None:
                runtime.bus.publish(SAMPLES, batch)

        shown = None
        if window:
            from PySide6.QtCore import QSettings

            from hmi.style import DAY
            from hmi.window import MainWindow

            shown = MainWindow(runtime, DAY, QSettings(str(Path(tmp) / "h.ini"), QSettings.Format.IniFormat))
            shown.show()
            shown.grab()  # one painted frame, as the desktop benchmark does
        start, origin = process.memory_info().rss, utcnow()
        for second in range(SECONDS):
            value = 5.0 + (second % 600) / 100  # a level that moves, as in bench_hmi
            publish([Sample(tag, origin + timedelta(seconds=second), value) for tag in tags])
            if second % 10 == 0:
                await asyncio.sleep(0.001)
            if second % 60 == 59:  # paced on the historian, as in bench_hmi: a backlog is not a leak
                await store.write([])
            if second % 600 == 599:
                grown = (process.memory_info().rss - start) / 2**20
                now = process.memory_info().rss / 2**20
                print(f"  {second + 1:5d} s simulated: +{grown:.0f} MiB (RSS {now:.0f} MiB)", flush=True)
        if shown is not None:
            shown.close()
        if historian_only:
            await store.stop()
        else:
            await runtime.stop()


def main() -> None:
    loop_kind = sys.argv[1] if len(sys.argv) > 1 else "asyncio"
    window, historian_only = "window" in sys.argv[2:], "historian" in sys.argv[2:]
    print(
        f"{loop_kind}, {'window' if window else 'no window'}, {'historian alone' if historian_only else 'runtime'}"
    )
    if loop_kind == "qasync":
        import qasync
        from PySide6.QtWidgets import QApplication

        app = QApplication(sys.argv[:1])
        app.setQuitOnLastWindowClosed(False)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(play(window, historian_only))
    else:
        asyncio.run(play(window, historian_only))


if __name__ == "__main__":
    main()
