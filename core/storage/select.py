"""Builds the historian and the alarm journal that ``storage.backend`` names.

SQLite: both embedded. Cassandra: the historian with its spool, and the journal written locally
then forwarded to Cassandra's shared tables.
"""

from __future__ import annotations

from pathlib import Path

from core.alarms.journal import AlarmJournal
from core.config.schema import Storage
from core.notify.store import PagingStore
from core.storage.base import Historian
from core.storage.commands_shared import CommandRelay
from core.storage.lease import Lease, owner_name
from core.storage.paths import StatePaths
from core.storage.tokens import TokenStore
from core.storage.users import UserStore


def synchronous(storage: Storage) -> str:
    """SQLite's setting for ``storage.durability``: FULL fsyncs the write-ahead log at each
    commit (an acknowledged sample survives a power cut), NORMAL at checkpoints only (it
    survives a crash of the process, not of the machine)."""
    return "FULL" if storage.durability == "power_cut" else "NORMAL"


def build_journal(storage: Storage, data_dir: Path) -> AlarmJournal:
    local = StatePaths(storage, data_dir).alarms
    if storage.backend == "cassandra":
        from core.config.secrets import resolve
        from core.storage.cassandra_journal import CassandraAlarmJournal

        settings = storage.cassandra
        return CassandraAlarmJournal(
            settings, local, resolve(settings.password) if settings.password else None
        )
    from core.storage.sqlite_journal import SQLiteAlarmJournal

    return SQLiteAlarmJournal(local, synchronous=synchronous(storage))


def build_lease(storage: Storage) -> Lease | None:
    """The leader lease of redundant servers: on Cassandra only (on SQLite a data directory
    has one server, which the authority lock enforces). One keyspace is one site: its lease
    row is ``pager``."""
    if storage.backend != "cassandra":
        return None
    from core.config.secrets import resolve
    from core.storage.cassandra_session import connect

    settings = storage.cassandra
    password = resolve(settings.password) if settings.password else None
    return Lease(lambda: connect(settings, password), "pager", owner_name(), settings.lease_ttl_s)


def build_paging_store(storage: Storage, data_dir: Path) -> PagingStore:
    """The cascade's store: its SQLite file alone, or, on Cassandra, that file kept in step with
    the site's shared tables (redundant servers take over from each other's rows)."""
    from core.storage.paging_sqlite import SqlitePagingStore

    local = StatePaths(storage, data_dir).paging

    if storage.backend != "cassandra":
        return SqlitePagingStore(local)
    from core.config.secrets import resolve
    from core.storage.cassandra_session import connect
    from core.storage.paging_cassandra import CassandraPagingStore
    from core.storage.paging_shared import SharedPagingStore

    settings = storage.cassandra
    password = resolve(settings.password) if settings.password else None
    shared = CassandraPagingStore(lambda: connect(settings, password), settings.timeout_s)
    return SharedPagingStore(SqlitePagingStore(local), shared, owner_name())


def build_credentials(storage: Storage, data_dir: Path) -> tuple[TokenStore, UserStore]:
    """The API's tokens and sessions and the operator accounts, in ``tokens.db``; on Cassandra
    that file is this server's replica of the site's (every server signs the same people in)."""
    local = StatePaths(storage, data_dir).credentials
    if storage.backend != "cassandra":
        return TokenStore(local), UserStore(local)
    from core.config.secrets import resolve
    from core.storage.cassandra_session import connect
    from core.storage.credentials_shared import CassandraCredentials, SharedTokenStore, SharedUserStore

    settings = storage.cassandra
    password = resolve(settings.password) if settings.password else None
    remote = CassandraCredentials(lambda: connect(settings, password))
    return SharedTokenStore(local, remote), SharedUserStore(local, remote)


def build_command_relay(storage: Storage, data_dir: Path) -> CommandRelay | None:
    """Operator commands shared with the site's other servers: on Cassandra only."""
    if storage.backend != "cassandra":
        return None
    from core.config.secrets import resolve
    from core.storage.cassandra_session import connect

    settings = storage.cassandra
    password = resolve(settings.password) if settings.password else None
    cursor = StatePaths(storage, data_dir).commands_cursor
    return CommandRelay(lambda: connect(settings, password), owner_name(), cursor)


def build_historian(storage: Storage, data_dir: Path) -> Historian:
    paths = StatePaths(storage, data_dir)
    if storage.backend == "cassandra":
        from core.config.secrets import resolve
        from core.storage.cassandra import CassandraHistorian

        settings = storage.cassandra
        password = resolve(settings.password) if settings.password else None
        return CassandraHistorian(settings, storage.retention_days, paths.spool, password)
    from core.storage.sqlite import SQLiteHistorian

    return SQLiteHistorian(paths.historian, synchronous=synchronous(storage))
