"""E-mail pages over SMTP with aiosmtplib: the only aiosmtplib importer.

The channel keeps its own small event loop in a thread: the cascade's worker calls
:meth:`EmailChannel.deliver` as a blocking call (see ``channels``), and the connection, STARTTLS
or implicit TLS and authentication run on that loop, which lives as long as the channel so
every transport is closed properly. A server that cannot be reached is
:class:`ChannelDown`, so the cascade falls back to SMS at once instead of waiting again for the
same timeout on the next page.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib

from core.config.notify import Smtp
from core.notify.channels import ChannelDown, Outbound, Rejected, Transient


class EmailChannel:
    name = "email"

    def __init__(self, smtp: Smtp, password: str | None) -> None:
        self.smtp = smtp
        self._password = password
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="smtp", daemon=True)
                self._thread.start()
            return self._loop

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.smtp.ca_file)

    def compose(self, message: Outbound) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.smtp.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.smtp.sender.split("@", 1)[1])
        mail["X-Ecreteur-Delivery"] = message.key
        mail["Content-Language"] = message.language
        mail.set_content(message.text)
        return mail

    def deliver(self, message: Outbound) -> str:
        mail = self.compose(message)
        try:
            asyncio.run_coroutine_threadsafe(self._send(mail), self._running_loop()).result()
        except (
            aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPTimeoutError,
            aiosmtplib.SMTPServerDisconnected,
        ) as err:
            raise ChannelDown(f"SMTP {self.smtp.host}:{self.smtp.port} unreachable: {err}") from err
        except aiosmtplib.SMTPRecipientsRefused as err:
            raise Rejected(f"recipient refused: {err}") from err
        except aiosmtplib.SMTPResponseException as err:
            if 400 <= err.code < 500:
                raise Transient(f"SMTP {err.code} {err.message}") from err
            raise Rejected(f"SMTP {err.code} {err.message}") from err
        except (aiosmtplib.SMTPException, ssl.SSLError, OSError) as err:
            raise ChannelDown(f"SMTP {self.smtp.host}:{self.smtp.port}: {err}") from err
        return str(mail["Message-ID"])

    async def _send(self, mail: EmailMessage) -> None:
        smtp = self.smtp
        client = aiosmtplib.SMTP(
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=self._password,
            use_tls=smtp.security == "tls",
            start_tls=smtp.security == "starttls",
            tls_context=self._context() if smtp.security != "none" else None,
            timeout=smtp.timeout_s,
        )
        sock = None
        try:
            await client.connect()
            sock = client.get_transport_info("socket")  # the TCP socket, beneath TLS if any
            await client.send_message(mail)
            await client.quit()
        finally:
            client.close()  # also when the server never answered: no transport left behind
            await _closed(sock)


async def _closed(sock: Any, within_s: float = 2.0) -> None:
    """Return once the connection's TCP socket is closed: over TLS, closing takes a close_notify
    exchange of a few loop turns, and the channel's loop must not stop before it ends (a socket
    and its transport would be left to the garbage collector)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while sock is not None and sock.fileno() != -1 and loop.time() < deadline:  # noqa: ASYNC110 (no event)
        await asyncio.sleep(0.005)
