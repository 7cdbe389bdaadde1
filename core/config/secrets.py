"""Secrets from the OS keyring (service ``ecreteur``): the only keyring importer.

The config holds only ``!secret NAME`` references; the value is looked up when a connection
needs it, so a secret never sits in a file, a log line or a traceback. A headless server run by
systemd gets them from the credential store instead (``LoadCredentialEncrypted=NAME:…`` in the
unit): systemd decrypts each into ``$CREDENTIALS_DIRECTORY/NAME``, readable by the service only.

A secret never lands in a plaintext file behind the operator's back: on a machine without a
real keyring, the ``keyring`` package would pick ``keyrings.alt``'s plaintext file by itself.
That choice is refused with what to do instead, unless someone asked for it by name
(``PYTHON_KEYRING_BACKEND``).
"""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import keyring.backend
from keyring.errors import KeyringError

from core.config.base import SecretRef

SERVICE = "ecreteur"


class SecretMissing(LookupError):
    """A ``!secret`` reference has no value in the keyring."""

    def __init__(self, name: str, message: str | None = None) -> None:
        super().__init__(
            message or f"secret {name!r} is not in the keyring; set it with `ecreteur secrets set {name}`"
        )
        self.name = name


class InsecureKeyring(SecretMissing):
    """The only keyring available would keep secrets in a plaintext file."""

    def __init__(self, name: str, backend: str) -> None:
        super().__init__(
            name,
            f"secret {name!r}: this machine has no secure keyring ({backend} would keep it in a "
            "plaintext file). On a server, give it to the service as a systemd credential "
            f"(`systemd-creds encrypt --name={name} - /etc/credstore.encrypted/{name}` and "
            f"LoadCredentialEncrypted={name}:/etc/credstore.encrypted/{name} in the unit); on "
            "a desktop, install and unlock gnome-keyring; to accept a plaintext file knowingly, set "
            "PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring",
        )


_INSECURE = {"PlaintextKeyring"}


def _keyring(name: str) -> keyring.backend.KeyringBackend:
    """The keyring to use for ``name``; refuses a plaintext file nobody asked for."""
    backend = keyring.get_keyring()
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return backend  # chosen by name, knowingly
    chosen = getattr(backend, "backends", [backend])  # a ChainerBackend lists its members
    if chosen and all(type(b).__name__ in _INSECURE for b in chosen):
        raise InsecureKeyring(name, f"{type(chosen[0]).__module__}.{type(chosen[0]).__name__}")
    return backend


def resolve(ref: SecretRef) -> str:
    """The value behind ``ref``; raise :class:`SecretMissing` with the fix when absent."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / ref.name).is_file():
        return (Path(credentials) / ref.name).read_text(encoding="utf-8").rstrip("\n")
    try:
        value = _keyring(ref.name).get_password(SERVICE, ref.name)
    except KeyringError as err:
        raise SecretMissing(ref.name) from err
    if value is None:
        raise SecretMissing(ref.name)
    return value


def store(name: str, value: str) -> None:
    """Put ``value`` in the keyring under ``name`` (:class:`InsecureKeyring` if only plaintext)."""
    _keyring(name).set_password(SERVICE, name, value)
