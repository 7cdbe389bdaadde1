"""The demo's simulated phone on the desktop: each page the demo's mailbox received, newest
first, with its incident link to click — fed by a real SMTP session on loopback."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from core.sim.mailbox import Mailbox, read_outbox
from hmi.views.phone import PhoneView

LINK = "http://127.0.0.1:8080/i/AbCdEf012345"


async def send(port: int, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ecreteur@demo", "alice@demo.example", subject
    message.set_content(body)
    await aiosmtplib.send(message, hostname="127.0.0.1", port=port)


async def test_the_phone_shows_each_page_newest_first_with_its_link(tmp_path: Path, qtbot: object) -> None:
    mailbox = Mailbox(tmp_path / "demo-mail")
    port = await mailbox.start()
    try:
        phone = PhoneView(lambda: read_outbox(tmp_path / "demo-mail"), "Europe/Paris")
        assert phone.messages() == 0
        assert (
            "Aucun message" in phone.screen_text.toPlainText()
            or "No message" in phone.screen_text.toPlainText()
        )
        await send(
            port, "Alarme 1 · Barrage de la Ganguise", f"Niveau : 14,90 m (seuil HH 14,50 m)\n{LINK}\n"
        )
        await send(port, "Alarme 1 acquittée", "Acquittée par Bob Durand.")
        phone.refresh()
        assert phone.messages() == 2
        shown = phone.screen_text.toHtml()
        assert shown.index("Alarme 1 acquittée") < shown.index("Barrage de la Ganguise")  # newest first
        assert f'href="{LINK}"' in shown and "14,90 m" in shown
        assert LINK not in phone.screen_text.toPlainText()  # the link is the button, not raw text
    finally:
        await mailbox.stop()
