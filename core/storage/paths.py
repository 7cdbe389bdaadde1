"""Where a site's state lives: every file derived from ``storage.path`` and the data directory, here only.

``storage.path`` (``var/ecreteur.db`` by default) is relative to the data directory; the
journals and stores sit beside it and share its stem (``ecreteur.alarms.db``,
``ecreteur.notify.db``…), the credentials file is ``tokens.db`` in the same folder. A second
process pointed at the same directory finds the same files, which is what the authority lock
(``.lock``) protects.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from core.config.schema import Storage


@dataclass(frozen=True, slots=True)
class StatePaths:
    storage: Storage
    data_dir: Path

    def local(self, path: str | Path) -> Path:
        """``path`` as given when absolute, else within the data directory."""
        return Path(path) if Path(path).is_absolute() else self.data_dir / path

    def beside(self, name: str) -> Path:
        """A file beside the historian: ``.audit.db`` gives ``ecreteur.audit.db``, a plain name
        (``tokens.db``) a file of that name in the same folder."""
        base = self.historian
        return base.with_suffix(name) if name.startswith(".") else base.with_name(name)

    @property
    def historian(self) -> Path:
        """The SQLite historian's file (with Cassandra, the journals' base name)."""
        return self.local(self.storage.path)

    @property
    def alarms(self) -> Path:
        """The alarm journal (with Cassandra, its local copy)."""
        return self.beside(".alarms.db")

    @property
    def paging(self) -> Path:
        """The cascade's incidents and deliveries."""
        return self.beside(".notify.db")

    @property
    def audit(self) -> Path:
        return self.beside(".audit.db")

    @property
    def lock(self) -> Path:
        """Held by the one process that supervises from these files."""
        return self.beside(".lock")

    @property
    def credentials(self) -> Path:
        """API tokens, sessions and operator accounts."""
        return self.beside("tokens.db")

    @property
    def link_key(self) -> Path:
        """The key that signs the incident links sent with pages."""
        return self.beside("links.key")

    @property
    def commands_cursor(self) -> Path:
        """The last command of the site's other servers carried out here."""
        return self.beside(".commands.cursor")

    @property
    def spool(self) -> Path:
        """Cassandra's store-and-forward spool."""
        return self.local(self.storage.cassandra.spool_path)

    @property
    def trust(self) -> Path:
        """The station certificates trusted (``ecreteur trust``) and this client's own."""
        return self.data_dir / "pki"

    @property
    def station_history(self) -> Path:
        """The simulated stations' own history (``ecreteur demo``)."""
        return self.data_dir / "stations"


def private_file(path: Path) -> Path:
    """``path``, created readable by this user only (0600) if it does not exist yet.

    The databases hold operators' password hashes, tokens, the journal and the history: a
    server started outside systemd (whose ``UMask=0077`` hid this) created them 0644, readable
    by every account of the machine. SQLite gives its -wal and -shm files the database's mode;
    an existing file keeps the mode an administrator chose."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    return path
