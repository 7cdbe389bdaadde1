"""A new demo run starts with a fresh alarm journal unless asked to keep it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli.common import DEMO_SITE
from core.cli.demo import fresh_alarms
from core.cli.main import build_parser
from core.config import load_config
from core.storage.lock import AuthorityLock, DataDirInUse
from core.storage.paths import StatePaths


def test_the_last_runs_journal_goes_and_the_historian_stays(tmp_path: Path) -> None:
    config = load_config(DEMO_SITE)
    journal, historian = StatePaths(config.storage, tmp_path).alarms, tmp_path / "demo.db"
    for old in (journal, journal.with_name(journal.name + "-wal"), historian):
        old.write_bytes(b"last run")
    fresh_alarms(config, tmp_path)
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
            fresh_alarms(config, tmp_path)
    finally:
        running.release()
    assert journal.read_bytes() == b"in use"


def test_keep_alarms_is_an_option_of_the_demo() -> None:
    assert build_parser().parse_args(["demo", "--keep-alarms"]).keep_alarms is True
    assert build_parser().parse_args(["demo"]).keep_alarms is False
