"""A new demo run starts with a fresh alarm journal unless asked to keep it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli import DEMO_SITE, _parser
from core.cli_demo import _fresh_alarms
from core.config import load_config
from core.storage.lock import AuthorityLock, DataDirInUse
from core.storage.paths import StatePaths


def test_the_last_runs_journal_goes_and_the_historian_stays(tmp_path: Path) -> None:
    config = load_config(DEMO_SITE)
    journal, historian = StatePaths(config.storage, tmp_path).alarms, tmp_path / "demo.db"
    for old in (journal, journal.with_name(journal.name + "-wal"), historian):
        old.write_bytes(b"last run")
    _fresh_alarms(config, tmp_path)
    assert not journal.exists() and not journal.with_name(journal.name + "-wal").exists()
    assert historian.read_bytes() == b"last run"


def test_a_running_demo_keeps_its_journal(tmp_path: Path) -> None:
    config = load_config(DEMO_SITE)
    journal = StatePaths(config.storage, tmp_path).alarms
    journal.write_bytes(b"in use")
    running = AuthorityLock(StatePaths(config.storage, tmp_path).lock)
    running.acquire()
    try:
        with pytest.raises(DataDirInUse):
            _fresh_alarms(config, tmp_path)
    finally:
        running.release()
    assert journal.read_bytes() == b"in use"


def test_keep_alarms_is_an_option_of_the_demo() -> None:
    assert _parser().parse_args(["demo", "--keep-alarms"]).keep_alarms is True
    assert _parser().parse_args(["demo"]).keep_alarms is False
