"""Desktop benchmarks (run by hand, offscreen; figures go to docs/PERFORMANCE.md).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_hmi.py

1. A trend of 10 M points (one tag at 1 Hz for 116 days): first render and frame time while
   panning. Ours is the desktop's own TrendsView (hmi/views/trends.py) fed by the SQLite
   historian holding the 10 M samples (built once into $ECRETEUR_BENCH_DIR, default
   ~/.cache/ecreteur/bench): from choosing the tag and the range to the first painted frame,
   the historian's downsampled query and the loss-marker check included. The baselines, in the
   same run, are a bare pyqtgraph PlotWidget given the same 10 M points from memory, as is and
   with pyqtgraph's own remedies (clip to view, peak downsampling). A frame is forced with
   grab(). Then a day of live values at 1 Hz appended to that trend, timed per second of them.
2. Start-up to first frame with 20 stations x 50 tags: building the main window on a started
   runtime (stations unreachable) until its first painted frame, against an empty QMainWindow.
3. Resident memory after one hour of simulated acquisition on that site: 3,600 one-second
   batches of 1,000 samples go through the bus (historian, alarm engine, every view), as fast
   as the historian stores them: each simulated minute waits for the historian to hold the
   minute before it, as a real hour would (played unpaced, 53 times faster than real time, the
   historian's queue grew by 450,000 samples every 10 minutes and that backlog was the whole
   "leak" seen before). RSS and the historian's queue are read before the window, after it,
   and every 10 minutes. The bench fails (exit status 1) when RSS grows by more than 10 %
   between minutes 20 and 60.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMainWindow

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from core.config.schema import SiteConfig  # noqa: E402
from core.runtime import Runtime  # noqa: E402
from hmi.style import DAY  # noqa: E402
from hmi.window import MainWindow  # noqa: E402

N = 10_000_000


def trend(app: QApplication, ours: bool) -> tuple[float, float]:
    x, y = series()
    widget = pg.PlotWidget()
    widget.resize(1200, 600)
    widget.show()
    app.processEvents()
    start = time.perf_counter()
    curve = widget.plot(x, y, pen=pg.mkPen("#1f4e79", width=1))
    if ours:
        curve.setClipToView(True)
        curve.setDownsampling(auto=True, method="peak")
    widget.grab()
    first = time.perf_counter() - start
    frames = []
    span = N / 10
    for i in range(30):  # pan across a tenth of the series, like a drag
        left = i * span / 10
        t = time.perf_counter()
        widget.setXRange(x[0] + left, x[0] + left + span, padding=0)
        widget.grab()
        frames.append(time.perf_counter() - t)
    widget.close()
    # deleted, not only closed: a closed PlotWidget with its 10 M points stayed alive in the
    # scene and the hour played after it grew by 65 MiB every 10 simulated minutes
    widget.deleteLater()
    del curve, widget
    app.processEvents()
    gc.collect()
    return first, statistics.median(frames)


BENCH_DIR = Path(os.environ.get("ECRETEUR_BENCH_DIR", Path.home() / ".cache" / "ecreteur" / "bench"))
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def series() -> tuple[np.ndarray, np.ndarray]:
    """The 10 M points: a slow wave with noise, one a second from T0."""
    x = np.arange(N, dtype=np.float64)
    return x + T0.timestamp(), np.sin(x / 5000.0) + np.random.default_rng(1).normal(0, 0.05, N)


async def historian_of_10m() -> Path:
    """The 10 M points in a historian file, built once (about a minute) and kept."""
    from core.model import Sample
    from core.storage.sqlite import SQLiteHistorian

    path = BENCH_DIR / "trend-10m.db"
    if path.exists():
        return path
    BENCH_DIR.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (before anything is timed)
    building = path.with_suffix(".building")
    historian = SQLiteHistorian(building)
    await historian.start()
    xs, ys = series()
    for chunk in range(0, N, 100_000):
        samples = [Sample("bench.level", datetime.fromtimestamp(float(x), UTC), float(y))
                   for x, y in zip(xs[chunk : chunk + 100_000], ys[chunk : chunk + 100_000], strict=True)]  # fmt: skip
        await historian.write(samples)
    await historian.stop()
    building.rename(path)
    return path


async def trend_view(app: QApplication) -> tuple[float, float, float, float]:
    """The desktop's TrendsView on the historian's 10 M points: first frame, pan frame, and the
    CPU per second of live values (at the start and at the end of a day of them)."""
    from core.bus import SAMPLES
    from core.model import Sample
    from core.storage.sqlite import SQLiteHistorian
    from hmi.bridge import Bridge
    from hmi.views.trends import TrendsView

    built = await historian_of_10m()
    config = SiteConfig.model_validate({
        "site": {"name": "bench"},
        "stations": [{"id": "bench", "name": "Bench", "endpoint": "opc.tcp://127.0.0.1:9/"}],
        "tags": [{"id": "bench.level", "station": "bench", "node": "ns=2;i=1", "unit": "m", "label": {"fr": "Niveau"}}],
    })  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trend.db"  # a copy: the live day below is stored too
        await asyncio.to_thread(shutil.copyfile, built, path)
        runtime = Runtime(config, data_dir=Path(tmp), historian=SQLiteHistorian(path))
        await runtime.start()
        view = TrendsView(runtime, Bridge(runtime), DAY)
        view.resize(1500, 600)
        view.show()
        view.grab()
        end = T0 + timedelta(seconds=N)
        start = time.perf_counter()
        view.show_tags(["bench.level"])
        view.set_range(end - T0, end)
        assert view._loading is not None
        await view._loading
        view.plot.grab()
        first = time.perf_counter() - start
        frames = []
        span = N / 10
        for i in range(30):  # pan across a tenth of the series, like a drag
            left = T0.timestamp() + i * span / 10
            t = time.perf_counter()
            view.plot.setXRange(left, left + span, padding=0)
            view.plot.grab()
            frames.append(time.perf_counter() - t)
        # live: the range ends now and a day of 1 Hz values arrives, one batch a second (stamped
        # over the day before now, so that every one of them is history when it is folded back)
        view.set_range(timedelta(hours=6), None)
        await view._loading
        day = runtime.clock.now() - timedelta(days=1)
        costs = []
        for second in range(86_400):
            batch = [Sample("bench.level", day + timedelta(seconds=second), 1.0 + (second % 600) / 600)]
            t = time.process_time()
            runtime.bus.publish(SAMPLES, batch)
            costs.append(time.process_time() - t)
            if second % 600 == 0:
                await asyncio.sleep(0)  # history reloads (a task) get their turn
        view.close()
        await runtime.stop()
    return first, statistics.median(frames), statistics.fmean(costs[:3600]), statistics.fmean(costs[-3600:])


def big_site() -> SiteConfig:
    stations = [{"id": f"s{i:02d}", "name": f"Barrage {i:02d}", "endpoint": f"opc.tcp://127.0.0.1:9/{i}"}
                for i in range(20)]  # fmt: skip
    tags = [{"id": f"s{i:02d}.{'level' if j == 0 else f't{j}'}", "station": f"s{i:02d}", "node": f"ns=2;i={j}",
             "unit": "m", "range": [0, 20], "label": {"fr": f"Mesure {j}"}} for i in range(20) for j in range(50)]  # fmt: skip
    return SiteConfig.model_validate({"site": {"name": "bench"}, "stations": stations, "tags": tags})


async def startup(app: QApplication) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(big_site(), data_dir=Path(tmp))
        await runtime.start()
        start = time.perf_counter()
        window = MainWindow(runtime, DAY, QSettings(str(Path(tmp) / "hmi.ini"), QSettings.Format.IniFormat))
        window.show()
        window.grab()
        ours = time.perf_counter() - start
        window.close()
        start = time.perf_counter()
        bare = QMainWindow()
        bare.resize(1400, 800)
        bare.show()
        bare.grab()
        baseline = time.perf_counter() - start
        bare.close()
        await runtime.stop()
    return ours, baseline


async def one_hour(
    app: QApplication, seconds: int = 3600
) -> tuple[float, float, float, float, dict[int, float]]:
    import psutil

    from core.bus import SAMPLES
    from core.model import Sample, utcnow

    process = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(big_site(), data_dir=Path(tmp))
        await runtime.start()
        before = process.memory_info().rss
        window = MainWindow(runtime, DAY, QSettings(str(Path(tmp) / "hmi.ini"), QSettings.Format.IniFormat))
        window.show()
        window.grab()
        built = process.memory_info().rss
        tags = [tag.id for tag in runtime.config.tags]
        start_ts = utcnow()
        start = time.perf_counter()
        marks: dict[int, float] = {}  # RSS (MiB) by simulated minute
        for second in range(seconds):
            ts = start_ts + timedelta(seconds=second)
            runtime.bus.publish(SAMPLES, [Sample(tag, ts, 5.0 + (second % 600) / 100) for tag in tags])
            if second % 10 == 0:
                await asyncio.sleep(0.001)  # qasync runs Qt's events: timers, painting, the historian
            if second % 60 == 59:  # a minute stored before the next is played: no backlog
                await runtime.historian.write([])
            if second % 600 == 599:
                rss = process.memory_info().rss / 2**20
                marks[(second + 1) // 60] = rss
                queued = getattr(runtime.historian, "pending_rows", 0)
                print(
                    f"  {second + 1} s simulated in {time.perf_counter() - start:.0f} s: RSS {rss:.0f} MiB, "
                    f"{queued} samples waiting for the historian",
                    flush=True,
                )
        await runtime.historian.write([])  # everything stored
        window.grab()
        elapsed = time.perf_counter() - start
        after = process.memory_info().rss
        window.close()
        await runtime.stop()
    return before / 2**20, built / 2**20, after / 2**20, elapsed, marks


def main() -> None:
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    bare_first, bare_frame = trend(app, ours=False)
    tuned_first, tuned_frame = trend(app, ours=True)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        first, frame, live_start, live_end = loop.run_until_complete(trend_view(app))
        print(f"10 M points: TrendsView on the historian: first frame {first * 1e3:.0f} ms, pan frame {frame * 1e3:.1f} ms "
              f"({1 / frame:.0f} frames/s); bare PlotWidget {bare_first * 1e3:.0f} ms, {bare_frame * 1e3:.1f} ms "
              f"({1 / bare_frame:.1f} frames/s); with clip and peak downsampling {tuned_first * 1e3:.0f} ms, "
              f"{tuned_frame * 1e3:.1f} ms ({1 / tuned_frame:.0f} frames/s)")  # fmt: skip
        print(f"a day of live values on that trend: {live_start * 1e6:.0f} µs CPU per second of them in the first "
              f"hour, {live_end * 1e6:.0f} µs in the last")  # fmt: skip
        ours, baseline = loop.run_until_complete(startup(app))
        before, built, after, elapsed, marks = loop.run_until_complete(one_hour(app))
    print(
        f"20 stations x 50 tags: main window to first frame {ours * 1e3:.0f} ms; empty QMainWindow {baseline * 1e3:.0f} ms"
    )
    print(f"one hour of 1,000 tags at 1 Hz (played in {elapsed:.0f} s): RSS {before:.0f} MiB before the window, "
          f"{built:.0f} MiB with it, {after:.0f} MiB after the hour")  # fmt: skip
    if marks[60] > 1.10 * marks[20]:  # a leak until proven otherwise: say it loudly
        raise SystemExit(f"RSS grew {marks[60] / marks[20] - 1:.0%} between minutes 20 and 60: {marks}")


if __name__ == "__main__":
    main()
