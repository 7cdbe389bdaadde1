"""The audible alert: a horn that repeats while an alarm waits for acknowledgement.

An operator may mute it; it stays silent until the next *new* alarm is raised, then sounds
again. The sound is a two-tone alert written once as a WAV file (standard library) and played
by the system's player (PipeWire/PulseAudio ``paplay`` or ALSA ``aplay``), without blocking the
UI. Without any player, Qt's system beep is used instead.
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

REPEAT_MS = 4000
_RATE = 16_000


def alert_wav(folder: Path | None = None) -> Path:
    """A 0.6 s two-tone alert (880 Hz then 660 Hz), written once."""
    path = (folder or Path(tempfile.gettempdir())) / "ecreteur-alert.wav"
    if path.exists():
        return path
    frames = bytearray()
    for i in range(int(_RATE * 0.6)):
        tone = 880.0 if i < _RATE * 0.3 else 660.0
        frames += struct.pack("<h", int(12_000 * math.sin(2 * math.pi * tone * i / _RATE)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_RATE)
        out.writeframes(bytes(frames))
    return path


def system_player() -> Callable[[], None]:
    """Plays the alert with the first player found, else Qt's beep; never blocks."""
    for command in ("paplay", "aplay"):
        found = shutil.which(command)
        if found:
            sound = str(alert_wav())
            arguments = [found, "-q", sound] if command == "aplay" else [found, sound]

            return _Player(arguments)
    return QApplication.beep


class _Player:
    """One sound at a time; the previous player process is reaped before the next starts."""

    def __init__(self, arguments: list[str]) -> None:
        self.arguments = arguments
        self.process: subprocess.Popen[bytes] | None = None

    def __call__(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return  # still sounding
        self.process = subprocess.Popen(self.arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Horn(QObject):
    """Sounds now and every ``REPEAT_MS`` while ``pending()`` is true and the horn is not muted."""

    def __init__(self, pending: Callable[[], bool], play: Callable[[], None] | None = None,
                 repeat_ms: int = REPEAT_MS) -> None:  # fmt: skip
        super().__init__()
        self.pending, self.play = pending, play or system_player()
        self.muted = False
        self.sounded = 0
        self._timer = QTimer(self)
        self._timer.setInterval(repeat_ms)
        self._timer.timeout.connect(self._sound)

    @property
    def sounding(self) -> bool:
        return self._timer.isActive()

    def update(self, new_alarm: bool = False) -> None:
        """Call after any alarm change; ``new_alarm`` when one was just raised (it lifts a mute)."""
        if new_alarm:
            self.muted = False
        if self.pending() and not self.muted:
            if not self._timer.isActive():
                self._sound()
                self._timer.start()
        else:
            self._timer.stop()

    def mute(self) -> None:
        self.muted = True
        self._timer.stop()

    def _sound(self) -> None:
        if self.pending() and not self.muted:
            self.sounded += 1
            self.play()
        else:
            self._timer.stop()
