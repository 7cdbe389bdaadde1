"""The demo's mail server: an SMTP sink on loopback that keeps each page as an ``.eml`` file.

``ecreteur demo --web`` pages its on-call staff by e-mail, as a site would, but no mail server
exists on a demonstration laptop: this one plays it. It speaks just enough SMTP for
aiosmtplib (no TLS, no authentication, loopback only), files every message it is given in
``folder`` and says who it was for, so the demo shows the cascade, the incident links and the
acknowledgements end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from core.clock import Clock

_LOGGER = logging.getLogger(__name__)
_MAX_BYTES = 1_000_000  # a page is a few kB


class Mailbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.received = 0
        self._server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        """Listen on loopback; return the port. Pages kept by an earlier run stay (numbered on)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.received = max((int(p.stem) for p in self.folder.glob("*.eml") if p.stem.isdigit()), default=0)
        self._server = await asyncio.start_server(self._session, "127.0.0.1", port)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        say("220 ecreteur-demo ESMTP")
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            while line := await reader.readline():
                verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
                if verb == "EHLO":
                    say("250-ecreteur-demo")
                    say(f"250 SIZE {_MAX_BYTES}")
                elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                    say("250 OK")
                elif verb == "DATA":
                    say("354 end with <CRLF>.<CRLF>")
                    await writer.drain()
                    self._keep(await reader.readuntil(b"\r\n.\r\n"))
                    say("250 OK: kept")
                elif verb == "QUIT":
                    say("221 bye")
                    break
                else:
                    say("502 not here")
                await writer.drain()
        writer.close()

    def _keep(self, data: bytes) -> None:
        body = data[: -len(b"\r\n.\r\n")].replace(b"\r\n..", b"\r\n.")
        message = email.message_from_bytes(body, policy=email.policy.default)
        self.received += 1
        path = self.folder / f"{self.received:04d}.eml"
        path.write_bytes(body)
        _LOGGER.warning("demo mail to %s: %s (%s)", message["To"], message["Subject"], path)


class MailboxThread:
    """The mailbox on a thread and an event loop of its own: the desktop demo's loop is Qt's,
    started later and stopped first, and the pages must still land while it closes."""

    def __init__(self, folder: Path) -> None:
        self.mailbox = Mailbox(folder)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="demo-mailbox", daemon=True)

    def start(self) -> int:
        """Listen on loopback; return the port."""
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.mailbox.start(), self._loop).result(timeout=30)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.mailbox.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


@dataclass(frozen=True)
class Page:
    """One page as the demo's simulated phone shows it: when, to whom, what it said, its link."""

    at: datetime
    to: str
    subject: str
    text: str
    link: str | None


_LINK = re.compile(r"https?://\S+/i/[A-Za-z0-9_-]+")


def read_outbox(folder: Path, limit: int = 20, clock: Clock | None = None) -> list[Page]:
    """The pages the demo's mailbox kept, newest first (at most ``limit``). With a time-lapse's
    ``clock``, each is dated on it (the page's own text speaks simulated time too), not by the
    real second it arrived."""
    pages = []
    real_now = datetime.now(UTC)
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        part = message.get_body(("plain",)) if isinstance(message, EmailMessage) else None
        text = part.get_content() if part is not None else ""
        at = _mtime(path)  # when it arrived, to the microsecond (a Date header says the second)
        if clock is not None and clock.speed != 1:
            at = clock.now() - (real_now - at) * clock.speed
        found = _LINK.search(text)
        pages.append(Page(at, str(message["To"] or ""), str(message["Subject"] or ""), text.strip(),
                          found.group(0) if found else None))  # fmt: skip
    return pages


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)
