"""What the ``ecreteur`` commands share: the demo site and its account, loading a site file
with every problem printed, and the desktop's entry point (core never imports Qt)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

from core.config.loader import ConfigError, load_config
from core.config.schema import SiteConfig
from core.sim.scenario import RESOURCES

DEMO_SITE = RESOURCES / "sites" / "demo.yaml"
DEMO_USER, DEMO_PASSWORD = "demo", "ecreteur-demo"


def load_site(path: Path, check_files: bool = True) -> SiteConfig | None:
    """The site file, or None once every problem in it is printed with its line."""
    try:
        return load_config(path, check_files)
    except ConfigError as err:
        for issue in err.issues:
            print(issue, file=sys.stderr)
        print(f"{path}: {len(err.issues)} problem(s) found", file=sys.stderr)
        return None


def desktop() -> Callable[..., int] | None:
    """The desktop's entry point, registered by the ``hmi`` package (core never imports Qt)."""
    for entry in entry_points(group="ecreteur.desktop"):
        if entry.name == "run":
            try:
                run: Callable[..., int] = entry.load()
            except ImportError:
                return None
            return run
    return None


def has_display() -> bool:
    return bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    )
