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
    "paho": {"core/acquisition/mqtt.py"},  # aiomqtt's transport, read in bursts by the MQTT link
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
    "cassandra": {
        "core/storage/cassandra.py",
        "core/storage/cassandra_session.py",
        "core/storage/cassandra_journal.py",
        "core/storage/cassandra_rollups.py",
    },
    "aiosmtplib": {"core/notify/email.py"},
    "twilio": {
        "core/notify/twilio/client.py",
        "core/notify/twilio/sms.py",
        "core/notify/twilio/voice.py",
        "core/notify/twilio/webhooks.py",
    },
    "requests": {"core/notify/twilio/client.py"},  # twilio's transport, whose errors the client sorts
    "fastapi": {
        "core/api/app.py",
        "core/api/auth.py",
        "core/api/sessions.py",
        "core/api/samples.py",
        "core/api/alarms.py",
        "core/api/events.py",
        "core/api/health.py",
        "core/api/shapes.py",
        "core/api/webhooks.py",
        "core/api/site.py",
        "core/api/web.py",
        "core/api/links.py",
        "core/api/ingest.py",
        "core/api/phone.py",
    },
    "starlette": {"core/api/cookies.py"},
    "uvicorn": {"core/api/server.py", "core/api/deadline.py"},
    "h11": {"core/api/deadline.py"},
    "httpx": {"core/client/remote.py", "core/client/session.py"},
    "websockets": {"core/client/session.py"},
}
QT = ("PySide6", "pyqtgraph", "qasync", "hmi")


@functools.cache
def tree(path: Path) -> ast.Module:
    # CPython 3.11's parser fails ("AST constructor recursion depth mismatch") when a garbage
    # collection runs finalizers in the middle of a parse: parse without the GC (once per file)
    gc.disable()
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    finally:
        gc.enable()


@functools.cache
def imports(path: Path) -> set[str]:
    """The top-level packages ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(tree(path)):
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


@functools.cache
def core_imports(path: Path) -> frozenset[str]:
    """The ``core`` modules ``path`` imports, by their dotted names."""
    found: set[str] = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("core"))
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.startswith("core")
        ):
            found.add(node.module)
    return frozenset(found)


def within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def test_storage_never_imports_the_alarm_engine() -> None:
    """Storage keeps what the engine hands it: it implements the journal's port
    (``core.alarms.journal``) and nothing else of the alarms."""
    offenders = {
        str(path.relative_to(REPO)): sorted(
            m for m in core_imports(path) if within(m, ("core.alarms",)) and m != "core.alarms.journal"
        )
        for path in sorted((REPO / "core" / "storage").rglob("*.py"))
    }
    assert {path: found for path, found in offenders.items() if found} == {}


# What the desktop may import from core: the runtime it is given, the bus, the model, the read
# model and the operations surface, the config it draws, and the few services a desktop needs
# before a runtime exists (signing in to a server or to this PC's accounts, its state folder).
DESKTOP_REACHES = (
    "core.runtime", "core.bus", "core.model", "core.site.board", "core.alarms.view", "core.site.operations",
    "core.config", "core.clock", "core.paths", "core.plugins", "core.client.remote", "core.client.session",
    "core.storage.users", "core.storage.paths", "core.site.oncall",
    "core.words",  # the kernel's words: figures and durations as people say them
)  # fmt: skip
# hmi/screenshots.py plays a simulated flood to photograph the desktop for the README: a tool
# that runs stations, not a face of the site
DESKTOP_TOOLS = {"hmi/screenshots.py"}


def test_the_desktop_reaches_core_only_through_its_faces() -> None:
    offenders = {}
    for path in sorted((REPO / "hmi").rglob("*.py")):
        name = str(path.relative_to(REPO))
        if name in DESKTOP_TOOLS:
            continue
        beyond = sorted(m for m in core_imports(path) if not within(m, DESKTOP_REACHES))
        if beyond:
            offenders[name] = beyond
    assert offenders == {}


def test_the_desktop_reads_alarms_through_the_board_not_the_engine() -> None:
    """A desktop client of a server shows the server's alarms: a view that read the local
    engine (``runtime.alarms``) would show what this PC evaluates instead."""
    reaching = []
    for path in sorted((REPO / "hmi").rglob("*.py")):
        name = str(path.relative_to(REPO))
        if name not in DESKTOP_TOOLS and "runtime.alarms" in path.read_text(encoding="utf-8"):
            reaching.append(name)
    assert reaching == []


def test_a_module_over_400_lines_says_why_it_is_one_file() -> None:
    """Files that each do one job: a long one must give its reason ("Why one file: …")."""
    unexplained = []
    for path in sorted([*(REPO / "core").rglob("*.py"), *(REPO / "hmi").rglob("*.py")]):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > 400 and "Why one file:" not in (ast.get_docstring(tree(path)) or ""):
            unexplained.append(f"{path.relative_to(REPO)} ({lines} lines)")
    assert unexplained == []


def test_the_rooms_keep_their_order() -> None:
    """The import-linter contracts of pyproject.toml: core never imports the desktop, domains
    never import storage, faces never import the engines, the layers, no cycle between siblings.
    A change that breaks one (``core/api`` importing ``core.alarms.engine``) fails here."""
    import shutil
    import subprocess
    import sys

    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert linter is not None, "import-linter is a dev dependency (installers/dev.sh installs it)"
    checked = subprocess.run([linter, "--no-cache"], cwd=REPO, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-2000:]
    assert "0 broken" in checked.stdout


def test_no_module_imports_another_modules_private_names() -> None:
    """A leading underscore says "mine": a name another module needs is part of its surface."""
    found = []
    for path in sorted([*(REPO / "core").rglob("*.py"), *(REPO / "hmi").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("core", "hmi"):
                found += [f"{path.relative_to(REPO)}: {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]  # fmt: skip
    assert found == []
