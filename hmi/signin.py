"""Sign-in before the desktop opens: the journal gets the operator's own name.

On the site's server (a client desktop) or, for a standalone desktop whose data directory has
operator accounts (``ecreteur user add``), against those accounts. The dialog never blocks the
loop (no ``exec``): the desktop awaits :meth:`SignInDialog.session` while the password is
checked, so a slow server cannot freeze the screen, and a refusal (wrong password, account
disabled, too many attempts, server unreachable) is said in the dialog with its reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from core.client.session import SignInFailed, sign_in
from core.site.operations import Actor, Role
from core.storage.users import UserStore
from hmi.i18n import tr

Attempt = Callable[[str, str], Awaitable[Any]]  # (user, password) -> what signing in gives


def on_server(server: str, ca: Path | None = None) -> Attempt:
    """Sign in on the site's server: gives a :class:`core.client.remote.Session`."""
    return lambda user, password: sign_in(server, user, password, ca)


def on_accounts(store: UserStore) -> Attempt:
    """Sign in with this PC's own accounts (standalone desktop): gives an :class:`Actor`."""

    async def attempt(user: str, password: str) -> Actor:
        account = await asyncio.to_thread(store.verify, user, password)
        if account is None:
            raise SignInFailed("wrong user name or password, or the account is disabled")
        return Actor(account.name, Role[account.role.upper()], "desktop")

    return attempt


class SignInDialog(QDialog):
    def __init__(self, where: str, attempt: Attempt, user: str = "") -> None:
        super().__init__()
        self.where, self.attempt = where, attempt
        self.setWindowTitle(tr("Écrêteur — sign in"))
        self.user = QLineEdit(user)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setObjectName("notice")
        form = QFormLayout()
        form.addRow(tr("Server:"), QLabel(where))
        form.addRow(tr("User:"), self.user)
        form.addRow(tr("Password:"), self.password)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self._cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        (self.password if user else self.user).setFocus()
        self._result: asyncio.Future[Any] = asyncio.get_event_loop().create_future()
        self._attempt: asyncio.Task[None] | None = None

    async def session(self) -> Any:
        """What signing in gave (a session, an actor); None when the operator cancels."""
        self.show()
        try:
            return await self._result
        finally:
            self.hide()

    def submit(self) -> None:
        if self._attempt is None or self._attempt.done():
            self._attempt = asyncio.ensure_future(self._try())

    async def _try(self) -> None:
        self.buttons.setEnabled(False)
        self.error.setText(tr("Signing in…"))
        try:
            session = await self.attempt(self.user.text().strip(), self.password.text())
        except SignInFailed as err:
            self.error.setText("✖ " + str(err))
            self.password.clear()
        else:
            if not self._result.done():
                self._result.set_result(session)
        finally:
            self.buttons.setEnabled(True)

    def _cancel(self) -> None:
        if not self._result.done():
            self._result.set_result(None)

    def closeEvent(self, event: object) -> None:
        self._cancel()
