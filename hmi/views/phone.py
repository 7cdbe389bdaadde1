"""The demo's simulated phone: the on-call pages the demo sent, newest first, with their links.

A newcomer running ``ecreteur demo`` has no Twilio account and no mail server: the demo's
mailbox keeps every page, and this tab shows them as the person paged would read them, each
incident link clickable (it opens the incident page in the browser). Only the demo adds it.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from hmi.i18n import tr

REFRESH_MS = 2_000
INTRO = "The demo's on-call messages land here, as on a phone: click a link to open the incident."


class Page(Protocol):
    """One page the demo's mailbox kept (``core.sim.mailbox.Page``)."""

    at: datetime
    to: str
    subject: str
    text: str
    link: str | None


class PhoneView(QWidget):
    def __init__(self, pages: Callable[[], Sequence[Page]], timezone: str) -> None:
        super().__init__()
        self._pages, self._zone = pages, ZoneInfo(timezone)
        intro = QLabel(
            tr("The demo's on-call messages land here, as on a phone: click a link to open the incident.")
        )
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        self.screen_text = QTextBrowser()
        self.screen_text.setOpenExternalLinks(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.screen_text, 1)
        self._shown: list[tuple[datetime, str]] = []
        self.refresh()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)

    def refresh(self) -> None:
        pages = list(self._pages())
        seen = [(page.at, page.subject) for page in pages]
        if seen == self._shown and self._shown:
            return
        self._shown = seen
        if not pages:
            empty = tr("No message yet: one comes as soon as an alarm pages the on-call person.")
            self.screen_text.setHtml(f"<p>{html.escape(empty)}</p>")
            return
        self.screen_text.setHtml("".join(self._bubble(page) for page in pages))

    def _bubble(self, page: Page) -> str:
        at = page.at.astimezone(self._zone).strftime("%d/%m %H:%M")
        said = page.text.replace(page.link, "").strip() if page.link else page.text
        text = html.escape(said).replace("\n", "<br>")
        link = (
            f'<p><a href="{html.escape(page.link)}">{html.escape(tr("Open the incident"))}</a></p>'
            if page.link
            else ""
        )
        head = f"<small>{at} · {html.escape(tr('to'))} {html.escape(page.to)}</small>"
        return f"<div><p>{head}<br><b>{html.escape(page.subject)}</b></p><p>{text}</p>{link}<hr></div>"

    def messages(self) -> int:
        """How many pages the phone shows (what a test counts)."""
        return len(self._shown)
