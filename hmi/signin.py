"""Sign-in on the site's server before the desktop opens: the journal gets the operator's own name.

The dialog never blocks the loop (no ``exec``): the desktop awaits :meth:`SignInDialog.session`
while the password is checked on the server, so a slow server cannot freeze the screen, and a
refusal (wrong password, account disabled, too many attempts, server unreachable) is said in
the dialog with the server's reason.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from core.remote import Session, SignInFailed, sign_in
from hmi.i18n import tr


class SignInDialog(QDialog):
    def __init__(self, server: str, ca: Path | None = None, user: str = "") -> None:
        super().__init__()
        self.server, self.ca = server, ca
        self.setWindowTitle(tr("Écrêteur — sign in"))
        self.user = QLineEdit(user)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setObjectName("notice")
        form = QFormLayout()
        form.addRow(tr("Server:"), QLabel(server))
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
        self._result: asyncio.Future[Session | None] = asyncio.get_event_loop().create_future()
        self._attempt: asyncio.Task[None] | None = None

    async def session(self) -> Session | None:
        """The session once signed in; None when the operator cancels."""
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
            session = await sign_in(self.server, self.user.text().strip(), self.password.text(), self.ca)
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
