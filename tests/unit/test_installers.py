"""The systemd unit is valid and hardened as the issue asks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "installers" / "ecreteur.service.in"


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing (Debian package systemd; installers/dev.sh installs it)"
    unit = tmp_path / "ecreteur.service"
    unit.write_text(TEMPLATE.read_text().replace("@PREFIX@", str(Path(sys.executable).parent.parent)))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_the_unit_runs_confined_with_one_writable_directory() -> None:
    settings = dict(
        line.split("=", 1)
        for line in TEMPLATE.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert settings["User"] == "ecreteur" and settings["ProtectSystem"] == "strict"
    assert settings["StateDirectory"] == "ecreteur" and "ReadWritePaths" not in settings
    assert settings["Restart"] == "on-failure" and settings["NoNewPrivileges"] == "yes"
    assert settings["CapabilityBoundingSet"] == ""


def test_every_package_of_the_code_is_in_the_built_package() -> None:
    """The package lists its packages: one moved into a new folder (core/site/) and not listed
    is missing from the installed server, which then cannot start."""
    import tomllib

    repo = Path(__file__).resolve().parents[2]
    listed = set(
        tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(repo).parts)
        for top in ("core", "hmi")
        for init in (repo / top).rglob("__init__.py")
    }
    assert found - listed == set()
