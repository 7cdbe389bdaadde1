"""The desktop's event loop survives a storm of timers.

PySide6 6.12.0 on Python 3.11 drops a reference to None in every Python QObject.timerEvent;
qasync goes through it for every callback, and the app dies within seconds with
"Fatal Python error: none_dealloc". pyproject.toml pins PySide6 below 6.12: this test fails if
an upgrade brings the bug back. It runs in a subprocess because the failure kills the interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = r"""
import asyncio, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import qasync

app = QApplication(sys.argv)
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
fired = 0

def tick():
    global fired
    fired += 1

async def storm():
    for _ in range(200):
        for _ in range(100):
            loop.call_later(0.001, tick)
        await asyncio.sleep(0.01)
    timers = []
    for _ in range(50):
        timer = QTimer()
        timer.timeout.connect(tick)
        timer.start(1)
        timers.append(timer)
    await asyncio.sleep(1.0)
    for timer in timers:
        timer.stop()

with loop:
    loop.run_until_complete(storm())
print("fired", fired)
"""


def test_many_timers_under_qasync_do_not_crash_the_interpreter() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert "Fatal Python error" not in result.stderr
    assert result.returncode == 0, result.stderr[-2000:]
    fired = int(result.stdout.split()[-1])
    assert fired >= 20_000  # every asyncio callback ran through Qt's timers
