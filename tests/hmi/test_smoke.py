"""Each way of opening the desktop runs for a few seconds in its own process and exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_PORTS_TIMEOUT, REPO


@pytest.mark.parametrize(("language", "theme"), [("fr", "day"), ("en", "night")])
@DEMO_PORTS_TIMEOUT
@pytest.mark.usefixtures("demo_ports")  # the demo site's stations: no other test's demo behind them
def test_ecreteur_hmi_opens_and_closes(tmp_path: Path, language: str, theme: str) -> None:
    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "core.cli", "hmi", "--config", str(REPO / "resources" / "sites" / "demo.yaml"),
         "--data-dir", str(tmp_path), "--language", language, "--theme", theme, "--duration", "3",
         "--screenshot", str(shot)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert shot.stat().st_size > 10_000  # a real picture of the window


def test_the_start_shows_its_window_before_the_heavy_imports() -> None:
    """A loaded PC takes seconds to import asyncua and pyqtgraph: the splash comes first."""
    heavy = "('pyqtgraph', 'asyncua', 'core.runtime', 'hmi.window')"
    check = f"import sys, hmi.app; print([m for m in {heavy} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
