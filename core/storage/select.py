"""Builds the historian that ``storage.backend`` names (SQLite embedded, or Cassandra + spool)."""

from __future__ import annotations

from pathlib import Path

from core.config.schema import Storage
from core.storage.base import Historian


def build_historian(storage: Storage, data_dir: Path) -> Historian:
    def local(path: str) -> Path:
        return Path(path) if Path(path).is_absolute() else data_dir / path

    if storage.backend == "cassandra":
        from core.config.secrets import resolve
        from core.storage.cassandra import CassandraHistorian

        settings = storage.cassandra
        password = resolve(settings.password) if settings.password else None
        return CassandraHistorian(settings, storage.retention_days, local(settings.spool_path), password)
    from core.storage.sqlite import SQLiteHistorian

    return SQLiteHistorian(local(storage.path))
