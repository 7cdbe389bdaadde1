"""A real `ecreteur server` process on a loopback port, with a simulated station and tokens."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.children import spawn
from tests.conftest import REPO, free_port

SITE = """\
site: {name: API test}
stations:
  - {id: lauragais, name: Ganguise, endpoint: "opc.tcp://127.0.0.1:@STATION_PORT@/ecreteur/lauragais",
      publishing_interval_ms: 200, reconnect_max_delay_s: 1}
  - {id: sondes, name: Sondes IoT, source: api}
tags:
  - {id: lauragais.level, station: lauragais, node: "ns=2;s=Level", unit: m, decimals: 2,
      label: {fr: Niveau, en: Level}}
  - {id: sondes.probe, station: sondes, unit: m, range: [0, 1000],
      label: {fr: Sonde IoT}}
alarms:
  - {id: probe, tags: sondes.probe, kind: limits, limits: {H: {value: 50.0}}}
api: {port: @API_PORT@, max_batch: 1000, max_body_bytes: 200000}
"""
SCOPES = ("admin", "read", "ingest", "operate", "engineer")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args], capture_output=True, text=True, check=False, cwd=REPO
    )


@dataclass
class ApiServer:
    root: Path
    site: str = SITE  # a site config with @STATION_PORT@ and @API_PORT@ to fill in
    station_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    tokens: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.api_port}/api/v1"

    @property
    def config(self) -> Path:
        return self.root / "site.yaml"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def headers(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def start(self, with_station: bool = True, verify: ssl.SSLContext | bool = True) -> None:
        site = self.site.replace("@STATION_PORT@", str(self.station_port))
        self.config.write_text(site.replace("@API_PORT@", str(self.api_port)), encoding="utf-8")
        for scope in SCOPES:
            if scope not in self.tokens:
                made = cli("token", "create", scope, "--scope", scope, "--config", str(self.config),
                           "--data-dir", str(self.data))  # fmt: skip
                assert made.returncode == 0, made.stderr
                self.tokens[scope] = made.stdout.strip()
        if with_station:
            station = [sys.executable, "-m", "core.cli", "simulate", "--station", "lauragais", "--port",
                       str(self.station_port), "--speed", "60", "--tick", "0.2", "--wall-clock"]  # fmt: skip
            self.processes.append(spawn(station, cwd=REPO, stdout=subprocess.DEVNULL))
        server = [sys.executable, "-m", "core.cli", "server", "--config", str(self.config), "--data-dir",
                  str(self.data)]  # fmt: skip
        with (self.root / "server.log").open("ab") as log:
            self.server = spawn(server, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
        self.processes.append(self.server)
        deadline = time.monotonic() + 300  # ends at the first answer, or when the server exits
        while time.monotonic() < deadline and self.server.poll() is None:
            try:
                if httpx.get(f"{self.url}/health", timeout=1, verify=verify).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start:\n{(self.root / 'server.log').read_text()}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()

    def log(self) -> str:
        return (self.root / "server.log").read_text()
