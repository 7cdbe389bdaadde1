"""A one-node Apache Cassandra 5.0 for development and tests, from Maven Central jars.

    python tests/peers/cassandra/node.py fetch            # resolve the jars into the cache (once)
    python tests/peers/cassandra/node.py start DIR [PORT] # start, wait until CQL answers, print the port
    python tests/peers/cassandra/node.py stop DIR         # stop the node started in DIR

The jars come from ``org.apache.cassandra:cassandra-all`` and its dependencies, resolved by
``mvn dependency:copy-dependencies`` from the tiny ``pom.xml`` here into
``$ECRETEUR_CACHE/cassandra`` (outside git). The node runs on Java 17 with the JVM options
Cassandra ships for it, a capped heap, and a minimal ``cassandra.yaml`` on loopback ports.
Standard library only, so it runs before any virtual environment exists.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("ECRETEUR_CACHE", Path.home() / ".cache" / "ecreteur")) / "cassandra"
LIB = CACHE / "lib"
HEAP = os.environ.get("ECRETEUR_CASSANDRA_HEAP", "768m")
_RUNNING: dict[Path, tuple[subprocess.Popen[bytes], Any]] = {}  # nodes started by this process


def fetch() -> Path:
    """The folder of jars, resolved by Maven the first time."""
    if (LIB / ".complete").exists():
        return LIB
    if shutil.which("mvn") is None:
        raise SystemExit("Maven (mvn) is needed to fetch Cassandra from Maven Central")
    LIB.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mvn", "-q", "-B", "-f", str(HERE / "pom.xml"), "dependency:copy-dependencies",
         f"-DoutputDirectory={LIB}", f"-Dmaven.repo.local={CACHE / 'm2'}"],
        check=True,
    )  # fmt: skip
    (LIB / ".complete").write_text("ok\n")
    return LIB


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def jvm_options() -> list[str]:
    lines = (HERE / "jvm17-server.options").read_text().splitlines()
    options: list[str] = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            options.extend(line.split(" ", 1) if line.startswith("--add-") else [line])
    return options


def _die_with_parent(parent: int) -> Any:
    """For a node started by a test run: the kernel kills it when that run dies (even kill -9)."""

    def tie() -> None:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(1)

    return tie if sys.platform.startswith("linux") else None


_spawn_requests: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any]]] = queue.Queue()


def _in_lasting_thread(make: Callable[[], Any]) -> Any:
    """Run ``make`` in a thread that lives as long as this process.

    PR_SET_PDEATHSIG fires when the forking *thread* ends: a restart from a worker thread
    (``asyncio.to_thread``) would otherwise kill the node when the pool retires that thread.
    """
    if threading.current_thread() is threading.main_thread():
        return make()
    if not any(t.name == "cassandra-spawner" for t in threading.enumerate()):

        def serve() -> None:
            while True:
                job, reply = _spawn_requests.get()
                try:
                    reply.put((job(), None))
                except Exception as err:
                    reply.put((None, err))

        threading.Thread(target=serve, name="cassandra-spawner", daemon=True).start()
    reply: queue.Queue[Any] = queue.Queue()
    _spawn_requests.put((make, reply))
    result, error = reply.get()
    if error is not None:
        raise error
    return result


def start(directory: Path, cql_port: int | None = None, timeout: float = 600, tied: bool = True) -> int:
    """Start a node whose files live in ``directory``; return its CQL port once it answers.

    ``tied``: the node dies with this process (tests); ``node.py start`` leaves it running.
    The wait ends as soon as CQL answers; the deadline only stops a node that never will.
    """
    lib = fetch()
    directory.mkdir(parents=True, exist_ok=True)
    cql_port = cql_port or free_port()
    config = (HERE / "cassandra.yaml").read_text()
    config = config.replace("@DIR@", str(directory)).replace("@CQL_PORT@", str(cql_port))
    config = config.replace("@STORAGE_PORT@", str(free_port()))
    (directory / "cassandra.yaml").write_text(config)
    java = (
        shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin"))
        if "JAVA_HOME" in os.environ
        else None
    )
    command = [
        java or "java", f"-Xms{HEAP}", f"-Xmx{HEAP}", "-XX:MaxDirectMemorySize=256m", *jvm_options(),
        "-Djava.net.preferIPv4Stack=true",
        f"-Dcassandra.config=file://{directory / 'cassandra.yaml'}",
        f"-Dlogback.configurationFile={HERE / 'logback.xml'}",
        f"-Dcassandra.logdir={directory / 'logs'}", f"-Dcassandra.storagedir={directory}",
        "-Dcassandra-foreground=yes", "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        "-Dcassandra.ring_delay_ms=0", "-Dcassandra.superuser_setup_delay_ms=0",
        "-cp", f"{lib}/*", "org.apache.cassandra.service.CassandraDaemon",
    ]  # fmt: skip
    log_path = directory / "node.log"
    offset = log_path.stat().st_size if log_path.exists() else 0  # a restart appends to the log
    log = log_path.open("ab")
    process = _in_lasting_thread(
        lambda: subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()) if tied else None,
        )
    )  # fmt: skip
    _RUNNING[directory] = (process, log)
    (directory / "node.pid").write_text(str(process.pid))
    (directory / "cql.port").write_text(str(cql_port))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Cassandra exited ({process.returncode}):\n{tail(directory)}")
        with log_path.open("rb") as reading:
            reading.seek(offset)
            started = b"Starting listening for CQL clients" in reading.read()
        if started:
            try:
                with socket.create_connection(("127.0.0.1", cql_port), timeout=5):
                    return cql_port
            except OSError:  # the log line can come just before the port opens
                pass
        time.sleep(0.5)
    stop(directory)
    raise RuntimeError(f"Cassandra did not answer on CQL within {timeout:.0f} s:\n{tail(directory)}")


def tail(directory: Path, lines: int = 40) -> str:
    return "\n".join((directory / "node.log").read_text(errors="replace").splitlines()[-lines:])


def stop(directory: Path, timeout: float = 10) -> None:
    """Stop the node started in ``directory`` (SIGTERM, then SIGKILL: test data is expendable)."""
    pid_file = directory / "node.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    process, log = _RUNNING.pop(directory, (None, None))
    try:
        os.killpg(pid, signal.SIGTERM)
        if process is not None:  # our child: wait() also reaps it
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(pid, signal.SIGKILL)
                process.wait()
        else:  # started by another process (`node.py start` then `node.py stop`)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.2)
            os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if log is not None:
        log.close()
    pid_file.unlink(missing_ok=True)


def kill(directory: Path) -> None:
    """SIGKILL the node started in ``directory``, as a crash would: no flush, no drain."""
    pid_file = directory / "node.pid"
    if not pid_file.exists():
        return
    process, log = _RUNNING.pop(directory, (None, None))
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(int(pid_file.read_text()), signal.SIGKILL)
    if process is not None:
        process.wait()
    if log is not None:
        log.close()
    pid_file.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["fetch"]:
        print(fetch())
    elif argv[:1] == ["start"] and len(argv) >= 2:
        print(start(Path(argv[1]).resolve(), int(argv[2]) if len(argv) > 2 else None, tied=False))
    elif argv[:1] == ["stop"] and len(argv) == 2:
        stop(Path(argv[1]).resolve())
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
