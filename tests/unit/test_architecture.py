"""The dependency rules of DESIGN.md, checked on every run so they cannot drift."""

from __future__ import annotations

import ast
import functools
import gc
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# third-party I/O library -> the only modules allowed to import it
ADAPTERS = {
    "asyncua": {"core/acquisition/opcua.py", "core/sim/station.py"},
    "aiomqtt": {"core/acquisition/mqtt.py"},
    "paho": set(),  # aiomqtt's transport: never imported directly
    "keyring": {"core/config/secrets.py"},
    "sqlite3": {
        "core/storage/sqlite.py",
        "core/storage/sqlite_journal.py",
        "core/storage/tokens.py",
        "core/sim/station.py",
        "core/storage/paging_sqlite.py",
        "core/storage/spool.py",
        "core/storage/audit.py",
        "core/storage/users.py",
    },
    "argon2": {"core/storage/users.py"},
    "cassandra": {"core/storage/cassandra.py"},
    "aiosmtplib": {"core/notify/email.py"},
    "twilio": {"core/notify/sms.py", "core/notify/voice.py"},
    "fastapi": {
        "core/api/app.py",
        "core/api/webhooks.py",
        "core/api/site.py",
        "core/api/web.py",
        "core/api/links.py",
        "core/api/ingest.py",
    },
    "starlette": {"core/api/cookies.py"},
    "uvicorn": {"core/api/server.py", "core/api/deadline.py"},
    "h11": {"core/api/deadline.py"},
    "httpx": {"core/remote.py"},
    "websockets": {"core/remote.py"},
}
QT = ("PySide6", "pyqtgraph", "qasync", "hmi")


@functools.cache
def imports(path: Path) -> set[str]:
    # CPython 3.11's parser fails ("AST constructor recursion depth mismatch") when a garbage
    # collection runs finalizers in the middle of a parse: parse without the GC (once per file)
    gc.disable()
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    finally:
        gc.enable()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def core_modules() -> list[Path]:
    return sorted((REPO / "core").rglob("*.py"))


def test_core_never_imports_qt_or_the_hmi() -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(imports(path) & set(QT))
        for path in core_modules()
        if imports(path) & set(QT)
    }
    assert offenders == {}


def test_each_io_library_is_imported_by_its_adapter_only() -> None:
    for library, allowed in ADAPTERS.items():
        users = {str(p.relative_to(REPO)) for p in core_modules() if library in imports(p)}
        assert users <= allowed, f"{library} imported outside its adapter: {sorted(users - allowed)}"
