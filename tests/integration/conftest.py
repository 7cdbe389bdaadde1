"""Real OPC-UA peers for the acquisition tests: our simulator and node-opcua."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.children import spawn
from core.config.schema import SiteConfig
from core.model import Quality, utcnow
from core.runtime import Runtime
from core.sim.scenario import load_dams, load_scenario
from core.sim.station import DamStation
from tests.conftest import NPM_CACHE, REPO, free_port
from tests.integration.paging_peers import AUTH_TOKEN, Prism, RecordingProxy, spec_with_errors, twilio_spec


@pytest.fixture
async def station(tmp_path: Path) -> AsyncIterator[DamStation]:
    """A simulated dam updating ten times a second, with the flood running fast."""
    dam = load_dams().dams[0]
    sim = DamStation(
        "lauragais", dam.parameters(), load_scenario("flood-100y"),
        port=free_port(), speed=600, tick_s=0.1, history_db=tmp_path / "station.db",
    )  # fmt: skip
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def runtimes() -> AsyncIterator[list[Runtime]]:
    """Runtimes started by a test, stopped at its end even when it fails."""
    running: list[Runtime] = []
    yield running
    for runtime in running:
        await runtime.stop()


async def start_runtime(running: list[Runtime], config: SiteConfig, data_dir: Path) -> Runtime:
    runtime = Runtime(config, data_dir=data_dir)
    running.append(runtime)
    await runtime.start()
    return runtime


async def stop_runtimes(running: list[Runtime]) -> None:
    for runtime in running:
        await runtime.stop()
    running.clear()


async def stored_series(data_dir: Path, tag: str, since: datetime) -> list[tuple[datetime, float]]:
    """Good samples of ``tag`` in the runtime's historian under ``data_dir``."""
    from core.storage.sqlite import SQLiteHistorian

    historian = SQLiteHistorian(data_dir / "var" / "ecreteur.db")
    await historian.start()
    try:
        samples = await historian.raw(tag, since - timedelta(minutes=5), utcnow() + timedelta(minutes=1))
    finally:
        await historian.stop()
    return [(s.ts, s.value) for s in samples if s.quality is Quality.GOOD]


async def station_log(
    endpoint: str, namespace: str, name: str, since: datetime
) -> list[tuple[datetime, float]]:
    """What a station itself logged for one variable, read over OPC-UA HistoryRead."""
    from asyncua import Client

    async with Client(endpoint) as client:
        ns = await client.get_namespace_index(namespace)
        values = await client.get_node(f"ns={ns};s={name}").read_raw_history(since, utcnow())
    return [(dv.SourceTimestamp, float(dv.Value.Value)) for dv in values]


@dataclass
class Process:
    """A peer running in its own process, that a test can kill and restart."""

    args: list[str]
    env: dict[str, str]
    ready: str
    popen: subprocess.Popen[str] | None = None
    drain: threading.Thread | None = None

    async def start(self) -> None:
        self.popen = spawn(
            self.args,
            env=self.env or None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
        )
        assert self.popen.stdout is not None
        lines: list[str] = []
        while True:
            line = await asyncio.to_thread(self.popen.stdout.readline)
            if not line:
                raise RuntimeError(f"{self.args[0]} exited before being ready:\n{''.join(lines)}")
            lines.append(line)
            if self.ready in line:
                break
        # keep draining the pipe so the peer never blocks on a full buffer
        self.drain = threading.Thread(target=self.popen.stdout.read, daemon=True)
        self.drain.start()

    def kill(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        self._close()

    def _close(self) -> None:
        if self.drain is not None:
            self.drain.join(timeout=5)
        if self.popen and self.popen.stdout:
            self.popen.stdout.close()

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()


@pytest.fixture
def process_peers() -> Iterator[list[Process]]:
    peers: list[Process] = []
    yield peers
    for peer in peers:
        peer.stop()


def simulator_process(port: int, history_dir: Path) -> Process:
    """`ecreteur simulate` for one station, as the demo runs it."""
    args = [sys.executable, "-m", "core.cli", "simulate", "--station", "lauragais", "--port", str(port)]
    args += ["--speed", "600", "--tick", "0.1", "--wall-clock", "--history-dir", str(history_dir)]
    return Process(args, dict(os.environ), ready="lauragais: opc.tcp://")


def node_station_process(port: int, pki: Path) -> Process:
    """The independent node-opcua station of tests/peers/station.js."""
    node = shutil.which("node")
    modules = NPM_CACHE / "node_modules" / "node-opcua"
    if node is None or not modules.exists():
        pytest.fail(
            f"node-opcua is not installed in {NPM_CACHE}: run `installers/dev.sh test` (it installs it)",
            pytrace=False,
        )
    env = {**os.environ, "NODE_PATH": str(NPM_CACHE / "node_modules")}
    args = [node, str(REPO / "tests" / "peers" / "station.js"), str(port), str(pki)]
    return Process(args, env, ready="ready ")


# --- paging peers: Prism with Twilio's contract, a recording proxy, the secret store ---------------


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    server = Prism(twilio_spec(), tmp_path_factory.mktemp("prism") / "prism.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def prism_with_errors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    directory = tmp_path_factory.mktemp("prism-errors")
    server = Prism(spec_with_errors(directory / "twilio-with-errors.json"), directory / "prism.log")
    yield server
    server.stop()


def _recording(upstream: Prism) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(upstream.url)
    yield proxy
    proxy.close()
    refused = [(s.path, s.form, s.detail[:500]) for s in proxy.invalid()]
    assert refused == [], "requests that do not match Twilio's OpenAPI contract"


@pytest.fixture
def twilio(prism: Prism) -> Iterator[RecordingProxy]:
    """The Twilio mock as the code sees it; fails the test if any request broke the contract."""
    yield from _recording(prism)


@pytest.fixture
def twilio_with_errors(prism_with_errors: Prism) -> Iterator[RecordingProxy]:
    yield from _recording(prism_with_errors)


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Secrets as systemd hands them to a service: one file per secret, named after it."""
    directory = tmp_path / "credentials"
    directory.mkdir()
    (directory / "twilio_token").write_text(AUTH_TOKEN, encoding="utf-8")
    (directory / "smtp_password").write_text("s3cret-smtp", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(directory))
    return directory


# --- a real Cassandra node, started once per test run when a test needs it -------------------------


def cassandra_script() -> Any:
    """tests/peers/cassandra/node.py, the script developers use too."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "cassandra_node", REPO / "tests" / "peers" / "cassandra" / "node.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class CassandraNode:
    directory: Path
    port: int
    script: Any

    def stop(self) -> None:
        self.script.stop(self.directory)

    def restart(self) -> None:
        self.script.start(self.directory, self.port)

    def kill(self) -> None:
        self.script.kill(self.directory)


@pytest.fixture(scope="session")
def cassandra_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CassandraNode]:
    script = cassandra_script()
    directory = tmp_path_factory.mktemp("cassandra")
    node = CassandraNode(directory, script.start(directory), script)
    yield node
    node.stop()


def cassandra_settings(node: CassandraNode, **overrides: Any) -> Any:
    """Settings for a fresh keyspace of its own, so tests never see each other's rows."""
    import uuid

    from core.config.schema import Cassandra

    keyspace = "t_" + uuid.uuid4().hex[:12]
    options: dict[str, Any] = {"contact_points": ["127.0.0.1"], "port": node.port, "keyspace": keyspace,
                               "consistency": "ONE", "timeout_s": 5, **overrides}  # fmt: skip
    return Cassandra(**options)
