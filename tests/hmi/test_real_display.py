"""The desktop on a real X display (Xvfb and Qt's xcb platform), as operators run it.

The offscreen platform needs none of the xcb libraries, so offscreen tests alone once let a
desktop ship that aborted on every real screen. These run the demo itself, read the window back
from the X server, and kill the demo to check that it leaves no process behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from PySide6.QtGui import QImage

from core.children import spawn
from tests.conftest import DEMO_PORTS_TIMEOUT, REPO


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb server; its display name comes back on a pipe once it accepts clients."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: run `installers/dev.sh test` (it installs it)", pytrace=False)
    read, write = os.pipe()
    server = spawn(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()  # written when Xvfb is ready; empty if it died
    if not number:
        server.kill()
        pytest.fail("Xvfb did not start", pytrace=False)
    yield f":{number}"
    server.terminate()
    server.wait(timeout=30)


def demo_command(tmp_path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "core.cli", "demo", "--data-dir", str(tmp_path / "var"), *extra]


def xcb_env(tmp_path: Path, display: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "QT_QPA_PLATFORM"}
    return {**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "XDG_CONFIG_HOME": str(tmp_path)}


def distinct_colours(path: Path) -> int:
    image = QImage(str(path))
    assert not image.isNull(), f"{path} is not an image"
    step = max(1, min(image.width(), image.height()) // 100)
    xs, ys = range(0, image.width(), step), range(0, image.height(), step)
    return len({image.pixel(x, y) for x in xs for y in ys})


@pytest.mark.slow
@DEMO_PORTS_TIMEOUT
@pytest.mark.usefixtures("demo_ports")
def test_demo_opens_the_desktop_on_a_real_x_display(tmp_path: Path, display: str) -> None:
    shot = tmp_path / "screen.png"
    result = subprocess.run(
        demo_command(tmp_path, "--duration", "12", "--screenshot", str(shot)),
        capture_output=True, text=True, env=xcb_env(tmp_path, display), cwd=REPO, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    # read back from the X server: a window that never reached the display would be black
    assert distinct_colours(shot) > 50, "the window on the X display is blank"


@pytest.mark.slow
@DEMO_PORTS_TIMEOUT
@pytest.mark.usefixtures("demo_ports")
def test_kill_9_of_the_demo_leaves_no_simulator_behind(tmp_path: Path, display: str) -> None:
    demo = subprocess.Popen(
        demo_command(tmp_path), env=xcb_env(tmp_path, display), cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300  # until the simulator is up: ends as soon as it is
        simulators: list[psutil.Process] = []
        while not simulators and time.monotonic() < deadline and demo.poll() is None:
            children = psutil.Process(demo.pid).children()
            simulators = [child for child in children if "simulate" in " ".join(child.cmdline())]
            time.sleep(0.1)
        assert simulators, "the demo did not start its simulator"
        simulator = simulators[0]
    finally:
        demo.send_signal(signal.SIGKILL)
        demo.wait(timeout=30)
        assert demo.stderr is not None
        demo.stderr.close()
    _gone, alive = psutil.wait_procs([simulator], timeout=30)
    assert alive == [], "the simulator outlived the demo killed with SIGKILL"
