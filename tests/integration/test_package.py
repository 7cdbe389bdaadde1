"""The Debian package as an administrator meets it: built, installed, run, removed.

Runs as root on the test machine (CI is root): ``dpkg -i`` of the package built by
``installers/build-deb.sh``, then what the package promises: ``ecreteur check-config`` on the
installed site, ``ecreteur simulate`` knowing its scenarios, the systemd unit's ``ExecStart``
run as the service user, the desktop of the installed (non-editable) wheel in French and
English, and a purge that leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtGui import QImage

from core.children import spawn
from tests.conftest import REPO, free_port

# building the package (every wheel) and installing it (a venv from them) take minutes on a
# loaded PC: the hang guard is sized for that, the waits themselves end when the work is done
pytestmark = [pytest.mark.package, pytest.mark.slow, pytest.mark.timeout(1800)]
UNIT = Path("/lib/systemd/system/ecreteur.service")


def run(*args: str, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False, timeout=900, **options)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("dpkg") is None:
        pytest.skip("installing a Debian package needs root and dpkg (CI has both)")
    out = tmp_path_factory.mktemp("deb")
    built = run(str(REPO / "installers" / "build-deb.sh"), str(out), cwd=REPO)
    assert built.returncode == 0, built.stderr[-3000:]
    package = Path(built.stdout.strip().splitlines()[-1])
    if run("dpkg", "-s", "ecreteur").returncode == 0:  # left by an interrupted run
        run("dpkg", "--purge", "ecreteur")
    done = run("dpkg", "-i", str(package))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    yield package
    purged = run("dpkg", "--purge", "ecreteur")
    assert purged.returncode == 0, purged.stderr
    for gone in ("/opt/ecreteur", "/usr/bin/ecreteur", "/etc/ecreteur", "/var/lib/ecreteur", str(UNIT)):
        assert not os.path.lexists(gone), f"{gone} left behind by the purge"
    assert run("getent", "passwd", "ecreteur").returncode != 0, "the service user was left behind"


def test_the_installed_site_validates_and_the_simulator_knows_its_scenarios(installed: Path) -> None:
    checked = run("/usr/bin/ecreteur", "check-config", "/etc/ecreteur/site.yaml", cwd="/")
    assert checked.returncode == 0 and "OK (3 stations" in checked.stdout, checked.stderr
    simulator = spawn(["/usr/bin/ecreteur", "simulate", "--station", "lauragais", "--port", str(free_port()),
                       "--scenario", "flood-100y"], stdout=subprocess.PIPE, text=True, cwd="/")  # fmt: skip
    try:
        assert simulator.stdout is not None
        assert simulator.stdout.readline().startswith("lauragais: opc.tcp://")
    finally:
        simulator.send_signal(signal.SIGINT)
        try:
            assert simulator.wait(timeout=60) == 0, "the simulator did not stop cleanly on SIGINT"
        finally:
            if simulator.poll() is None:
                simulator.kill()
                simulator.wait()
            if simulator.stdout is not None:
                simulator.stdout.close()


def test_the_units_exec_start_runs_the_server_as_the_service_user(installed: Path) -> None:
    command = re.search(r"^ExecStart=(.+)$", UNIT.read_text(), re.M)
    assert command is not None
    site = Path("/etc/ecreteur/site.yaml")
    port = free_port()
    site.write_text(re.sub(r"(?m)^api:.*$", f"api: {{port: {port}}}", site.read_text()) + (
        "" if re.search(r"(?m)^api:", site.read_text()) else f"api: {{port: {port}}}\n"))  # fmt: skip
    # as systemd runs it: the service user, exec'd directly (setpriv), so SIGTERM reaches the server
    as_service = ["setpriv", "--reuid", "ecreteur", "--regid", "ecreteur", "--init-groups"]
    log = Path("/var/lib/ecreteur/server.log").open("w")  # noqa: SIM115 - closed below
    server = spawn([*as_service, *command.group(1).split()], cwd="/var/lib/ecreteur", stdout=log,
                   stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while server.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert server.poll() is None, Path("/var/lib/ecreteur/server.log").read_text()
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=120)
        log.close()
    assert code == 0, Path("/var/lib/ecreteur/server.log").read_text()
    Path("/var/lib/ecreteur/server.log").unlink()
    owners = {path.owner() for path in Path("/var/lib/ecreteur").iterdir()}
    assert owners == {"ecreteur"}, "the service wrote files as another user"


@pytest.mark.parametrize(("language", "word"), [("fr", "Vue d'ensemble"), ("en", "Overview")])
@pytest.mark.usefixtures("demo_ports")
def test_the_installed_desktop_runs_the_demo_in_both_languages(
    installed: Path, tmp_path: Path, language: str, word: str
) -> None:
    shot = tmp_path / "demo.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    demo = run("/usr/bin/ecreteur", "demo", "--language", language, "--duration", "5", "--data-dir",
               str(tmp_path / "state"), "--screenshot", str(shot), cwd="/", env=env)  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert not QImage(str(shot)).isNull()
    probe = "from hmi import i18n; print(i18n.I18N)"
    where = run("/opt/ecreteur/venv/bin/python", "-c", probe, cwd="/").stdout.strip()
    assert where.startswith("/opt/ecreteur/venv/") and (Path(where) / "ecreteur_fr.qm").exists()
    tabs = ("from PySide6.QtWidgets import QApplication; from hmi import i18n; a = QApplication([]); "
            f"t = i18n.install(a, {language!r}); print(i18n.tr('Overview'))")  # fmt: skip
    assert run("/opt/ecreteur/venv/bin/python", "-c", tabs, cwd="/", env=env).stdout.strip() == word
