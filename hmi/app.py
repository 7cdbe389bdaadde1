"""``ecreteur hmi``: the desktop on one asyncio loop (qasync), the UI thread never waits on I/O."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import qasync
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from core.clock import Clock
from core.config.schema import SiteConfig
from hmi import i18n
from hmi.i18n import tr
from hmi.style import THEMES, stylesheet

if TYPE_CHECKING:
    from core.client.session import Session
    from hmi.views.phone import Page

_LOGGER = logging.getLogger(__name__)


def run(
    config: SiteConfig,
    config_path: Path,
    data_dir: Path,
    *,
    language: str | None = None,
    theme: str | None = None,
    duration: float | None = None,
    screenshot: Path | None = None,
    server: str | None = None,
    server_ca: Path | None = None,
    user: str = "",
    clock: Clock | None = None,
    phone: Callable[[], Sequence[Page]] | None = None,
) -> int:
    """Open the desktop until the window closes (or ``duration`` seconds, for smoke runs).

    With ``server`` the desktop is a client of the site's server: the operator signs in first
    (or ``$ECRETEUR_SESSION`` holds a bearer, for a kiosk PC), then alarms, journal, history and
    commands are the server's, and this desktop never pages. ``clock``: a time-lapse's (the
    demo), which every screen then shows and runs on. ``phone``: the demo's pages, shown on a
    simulated phone's tab.
    """
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # the loop ends when main() has stopped the runtime
    settings = QSettings("Ecreteur", "HMI")
    chosen = language or str(settings.value("language", "")) or config.site.language
    theme = theme or str(settings.value("theme", "")) or "day"
    translator = i18n.install(app, i18n.pick_language(chosen))
    splash = Splash(config.site.name, theme)  # at once: the rest takes seconds on a loaded PC
    splash.step(tr("Loading the desktop…"))
    app.processEvents()  # before the loop runs: painted now
    from core.runtime import Runtime  # the heavy imports (asyncua, pyqtgraph), behind the splash
    from core.storage.paths import StatePaths
    from core.storage.users import UserStore
    from hmi.signin import SignInDialog, on_accounts
    from hmi.window import MainWindow

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()

    async def main() -> None:
        session, operator = None, None
        if server:
            splash.hide()  # the sign-in dialog comes first
            session = await _session(server, server_ca, user)
            if session is None:
                return  # the operator cancelled the sign-in
        else:
            accounts = UserStore(StatePaths(config.storage, data_dir).credentials)
            if accounts.list():  # this PC has operator accounts: names are verified
                where = tr("this desktop") + f" ({data_dir})"
                splash.hide()
                operator = await SignInDialog(where, on_accounts(accounts), user).session()
                if operator is None:
                    return
        await splash.shown(tr("Opening the site's history and alarms…"))
        runtime = Runtime(config, config_path=config_path, data_dir=data_dir, session=session, clock=clock)
        await runtime.start()
        await splash.shown(tr("Connecting to the stations…"))
        window = MainWindow(runtime, THEMES[theme or "day"], settings, signed_in=operator, phone=phone)
        app.lastWindowClosed.connect(closed.set)
        window.show()
        splash.close()
        # when the operator first sees the site (tests/bench/bench_start.py reads it)
        QTimer.singleShot(0, lambda: _LOGGER.info("desktop shown at %.3f", time.time()))
        await window.overview.load_history()
        await window.dashboards.load_history()
        try:
            if duration is None:
                await closed.wait()
            else:
                await asyncio.wait_for(closed.wait(), duration)
        except TimeoutError:
            pass
        finally:
            if screenshot is not None:
                _screenshot(app, window).save(str(screenshot))
            window.close()
            await runtime.stop()

    with loop:
        loop.run_until_complete(main())
    del translator
    return 0


class Splash(QWidget):
    """A window at once, with the site's name and what the start is doing.

    Not a QSplashScreen: its showMessage processes events, which under qasync re-enters the loop."""

    def __init__(self, site: str, theme: str) -> None:
        super().__init__(None, Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
        self.setStyleSheet(stylesheet(THEMES[theme]))
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        title = QLabel(f"Écrêteur — {site}")
        title.setObjectName("title")
        self.message = QLabel()
        self.message.setObjectName("muted")
        for label in (title, self.message):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        self.resize(560, 160)
        self.show()

    def step(self, text: str) -> None:
        self.message.setText(text)

    async def shown(self, text: str) -> None:
        """Say ``text``, and give the loop a turn to paint it before the next long step."""
        self.show()
        self.step(text)
        await asyncio.sleep(0.05)


async def _session(server: str, ca: Path | None, user: str) -> Session | None:
    from core.client.session import SignInFailed, resume
    from hmi.signin import SignInDialog, on_server

    bearer = os.environ.get("ECRETEUR_SESSION")
    if bearer:
        try:
            return await resume(server, bearer, ca)
        except SignInFailed as err:
            print(f"ecreteur hmi: $ECRETEUR_SESSION: {err}", file=sys.stderr)
    found: Session | None = await SignInDialog(server, on_server(server, ca), user).session()
    return found


def _screenshot(app: QApplication, window: QWidget) -> QPixmap:
    """What the operator sees: read back from the display server on a real screen (a widget
    grab would render the widget even if nothing reached the display), the widget offscreen."""
    screen = window.screen()
    if app.platformName() != "offscreen" and screen is not None:
        return screen.grabWindow(window.winId())
    return window.grab()
