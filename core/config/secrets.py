"""Secrets from the OS keyring (service ``ecreteur``): the only keyring importer.

The config holds only ``!secret NAME`` references; the value is looked up when a connection
needs it, so a secret never sits in a file, a log line or a traceback. A headless server run by
systemd gets them from the credential store instead (``LoadCredentialEncrypted=NAME:…`` in the
unit): systemd decrypts each into ``$CREDENTIALS_DIRECTORY/NAME``, readable by the service only.
"""

from __future__ import annotations

import os
from pathlib import Path

import keyring
from keyring.errors import KeyringError

from core.config.base import SecretRef

SERVICE = "ecreteur"


class SecretMissing(LookupError):
    """A ``!secret`` reference has no value in the keyring."""

    def __init__(self, name: str) -> None:
        super().__init__(f"secret {name!r} is not in the keyring; set it with `ecreteur secrets set {name}`")
        self.name = name


def resolve(ref: SecretRef) -> str:
    """The value behind ``ref``; raise :class:`SecretMissing` with the fix when absent."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / ref.name).is_file():
        return (Path(credentials) / ref.name).read_text(encoding="utf-8").rstrip("\n")
    try:
        value = keyring.get_password(SERVICE, ref.name)
    except KeyringError as err:
        raise SecretMissing(ref.name) from err
    if value is None:
        raise SecretMissing(ref.name)
    return value


def store(name: str, value: str) -> None:
    """Put ``value`` in the keyring under ``name``."""
    keyring.set_password(SERVICE, name, value)
