"""Secrets never fall back to a plaintext file behind the operator's back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

from core.config.base import SecretRef
from core.config.secrets import InsecureKeyring, resolve, store


@pytest.fixture
def plaintext_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A headless machine: the only keyring ``keyring`` finds is keyrings.alt's plaintext file."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    yield
    keyring.set_keyring(previous)


def test_a_plaintext_keyring_nobody_asked_for_is_refused_with_what_to_do(plaintext_by_default: None) -> None:
    with pytest.raises(InsecureKeyring) as refused:
        store("station_password", "hunter2")
    message = str(refused.value)
    assert "plaintext file" in message and "LoadCredentialEncrypted=station_password" in message
    assert "PYTHON_KEYRING_BACKEND" in message
    with pytest.raises(InsecureKeyring):
        resolve(SecretRef("station_password"))


def test_a_plaintext_keyring_asked_for_by_name_is_used(
    plaintext_by_default: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    store("station_password", "hunter2")
    assert resolve(SecretRef("station_password")) == "hunter2"


def test_systemd_credentials_need_no_keyring(
    plaintext_by_default: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "station_password").write_text("from-systemd\n", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert resolve(SecretRef("station_password")) == "from-systemd"
