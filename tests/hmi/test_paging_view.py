"""The desktop's on-call view: who is on call, who was paged, how, whether it arrived, who
acknowledged, and what the escalation does next — from the real cascade, its e-mails received
by a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QTableWidget

from core.config.secrets import SecretRef
from core.model import Sample
from core.runtime import Runtime
from core.site.operations import Actor, Role
from hmi.style import DAY
from hmi.window import MainWindow
from tests.conftest import eventually
from tests.integration.paging_bench import paging_site
from tests.integration.paging_peers import Mailbox, smtp_server


def cells(table: QTableWidget, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


@pytest.fixture
async def paging_desktop(
    tmp_path: Path, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[MainWindow, Runtime, Mailbox]]:
    secrets = tmp_path / "credentials"
    secrets.mkdir()
    (secrets / "smtp_password").write_text("s3cret-smtp", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(secrets))
    mailbox = Mailbox()
    server = smtp_server(mailbox, tmp_path, "ecreteur", "s3cret-smtp")
    smtp = {"host": "127.0.0.1", "port": server.port, "security": "starttls", "username": "ecreteur",
            "password": SecretRef("smtp_password"), "sender": "ecreteur@eaux.example",
            "ca_file": str(server.cert_path)}  # fmt: skip
    levels = [
        {"targets": [{"oncall": "astreinte"}], "channels": ["email"], "delay_min": 15},
        {"targets": [{"person": "bob"}], "channels": ["email"], "delay_min": 15},
    ]
    config = paging_site(None, {"id": "crue", "levels": levels}, smtp=smtp)
    runtime = Runtime(config, data_dir=tmp_path)
    await runtime.start()
    window = MainWindow(runtime, DAY, QSettings(str(tmp_path / "hmi.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        yield window, runtime, mailbox
    finally:
        window.close()
        await runtime.stop()
        server.stop()


async def test_the_on_call_view_shows_who_is_paged_what_arrived_and_what_comes_next(
    paging_desktop: tuple[MainWindow, Runtime, Mailbox],
) -> None:
    window, runtime, mailbox = paging_desktop
    view = window.paging
    window.tabs.setCurrentWidget(view)
    await view.load()
    assert cells(view.teams, 0)[:2] == ["Astreinte", "Alice Martin"]  # the team's person on call now
    assert view.incidents.rowCount() == 0 and "Nobody is paged now" in view.status.text()

    await runtime.ingest([Sample("lauragais.level", runtime.clock.now(), 4.2)])  # above HH: critical
    await eventually(lambda: len(mailbox.messages) == 1, what="the page to Alice")

    async def loaded(predicate: Any) -> bool:
        await view.load()
        return bool(predicate())

    await eventually(lambda: loaded(lambda: view.incidents.rowCount() == 1), what="the incident listed")
    incident = cells(view.incidents, 0)
    assert incident[1] == "Paging" and incident[4] == "1"  # paging, at level 1
    assert incident[3] == "Barrage de la Ganguise — Level very high: 4.20 m (limit 4.00 m)"  # not its id
    assert incident[6].startswith("Level 2 at ") and incident[6].endswith(": Bob Durand")  # next, and who
    assert "1 incident(s) paging now" in view.status.text()
    await eventually(lambda: loaded(lambda: cells(view.timeline, 0)[5] == "Sent"), what="the page sent")
    sent = cells(view.timeline, 0)
    assert sent[1:4] == ["Alice Martin", "E-mail", "Page"] and sent[6] == ""  # no provider id as a reason

    alarm = runtime.board.views()[0].id
    await runtime.board.acknowledge(
        Actor("Paul Opérateur", Role.OPERATOR, "desktop"), alarm, "je m'en occupe"
    )
    await eventually(lambda: loaded(lambda: cells(view.incidents, 0)[1] == "Taken in charge"), what="taken")
    taken = cells(view.incidents, 0)
    assert taken[5].startswith("Paul Opérateur") and taken[6] == "—"  # nothing more will be paged
    await eventually(lambda: len(mailbox.messages) == 2, what="Alice told who took it")
    await eventually(lambda: loaded(lambda: view.timeline.rowCount() == 2), what="the notice listed")
    assert cells(view.timeline, 1)[1:4] == ["Alice Martin", "E-mail", "Acknowledgement notice"]


async def test_a_site_with_a_roster_but_no_escalation_shows_who_is_on_call_and_says_nobody_is_paged(
    desktop: Any,
) -> None:
    window, _runtime, _station = desktop  # the demo site: its roster, no escalation configured
    await window.paging.load()
    teams = [cells(window.paging.teams, r)[0] for r in range(window.paging.teams.rowCount())]
    assert teams == ["Astreinte barrages", "Cadres d'astreinte"]
    assert window.paging.incidents.rowCount() == 0
    assert window.paging.status.text() == "No escalation is configured: nobody is paged from this site."
