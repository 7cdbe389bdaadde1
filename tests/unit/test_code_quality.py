"""The code stays formatted, linted and typed: ruff and mypy (strict on core/) run with the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_ruff_finds_nothing() -> None:
    lint = run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout
    style = run("ruff", "format", "--check", ".")
    assert style.returncode == 0, style.stdout


def test_core_is_mypy_clean() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout
