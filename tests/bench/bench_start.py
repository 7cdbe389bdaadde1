"""Cold start of the desktop, imports included (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_start.py [--load]

From launching ``ecreteur hmi`` on the demo site (stations unreachable, a fresh data directory)
to the main window shown, as the desktop logs it, against the same interpreter launching an
empty PySide6 window (the baseline every Qt desktop pays), in the same run. ``--load`` runs
both beside ``stress-ng --cpu 2`` (a loaded two-core PC).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from core.children import spawn  # noqa: E402

BARE = (
    "import sys, time; from PySide6.QtWidgets import QApplication, QMainWindow; from PySide6.QtCore import QTimer;"
    "app = QApplication(sys.argv); w = QMainWindow(); w.resize(1400, 800); w.show();"
    "QTimer.singleShot(0, lambda: (print('shown at', time.time(), flush=True), app.quit())); app.exec()"
)


def desktop() -> float:
    with tempfile.TemporaryDirectory() as data:
        command = [sys.executable, "-m", "core.cli", "--log-level", "info", "hmi", "--config",
                   str(REPO / "resources" / "sites" / "demo.yaml"), "--data-dir", data, "--standalone",
                   "--duration", "1"]  # fmt: skip
        began = time.time()
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300)
        found = re.search(r"desktop shown at ([0-9.]+)", done.stderr)
        assert found, done.stderr[-2000:]
        return float(found[1]) - began


def bare() -> float:
    began = time.time()
    done = subprocess.run([sys.executable, "-c", BARE], capture_output=True, text=True, timeout=300)
    found = re.search(r"shown at ([0-9.]+)", done.stdout)
    assert found, done.stderr
    return float(found[1]) - began


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    stress = None
    if "--load" in sys.argv:
        assert shutil.which("stress-ng"), "apt-get install stress-ng"
        stress = spawn(["stress-ng", "--cpu", "2", "--quiet"])
        time.sleep(2)
    try:
        ours, baseline = [], []
        for _ in range(5):
            baseline.append(bare())
            ours.append(desktop())
    finally:
        if stress is not None:
            stress.terminate()
            stress.wait()
    o, b = statistics.median(ours), statistics.median(baseline)
    print(f"cold start{' under stress-ng --cpu 2' if stress else ''}: ecreteur hmi shown after {o:.2f} s "
          f"(median of 5; {min(ours):.2f}–{max(ours):.2f}), empty PySide6 window {b:.2f} s: {o / b:.1f}×")  # fmt: skip


if __name__ == "__main__":
    main()
