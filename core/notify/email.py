"""E-mail pages over SMTP with aiosmtplib: the only aiosmtplib importer.

Each message is sent on a short-lived loop inside a worker thread (see ``channels``), with
STARTTLS or implicit TLS and authentication as configured. A server that cannot be reached is
:class:`ChannelDown`, so the cascade falls back to SMS at once instead of waiting again for the
same timeout on the next page.
"""

from __future__ import annotations

import asyncio
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from core.config.notify import Smtp
from core.notify.channels import ChannelDown, Outbound, Rejected, Transient


class EmailChannel:
    name = "email"

    def __init__(self, smtp: Smtp, password: str | None) -> None:
        self.smtp = smtp
        self._password = password

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
            asyncio.run(self._send(mail))
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
        await aiosmtplib.send(
            mail,
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=self._password,
            use_tls=smtp.security == "tls",
            start_tls=smtp.security == "starttls",
            tls_context=self._context() if smtp.security != "none" else None,
            timeout=smtp.timeout_s,
        )
