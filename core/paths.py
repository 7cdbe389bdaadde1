"""Where Écrêteur keeps its state and finds its resources, the same for every command.

State (historian, journals, tokens, trust store) goes to ``--data-dir`` when given, else to the
first of: ``$ECRETEUR_DATA_DIR``; ``$STATE_DIRECTORY`` (set by systemd's ``StateDirectory=``,
``/var/lib/ecreteur`` for the service); ``$XDG_STATE_HOME/ecreteur``; ``~/.local/state/ecreteur``.
So ``ecreteur kpis`` after ``ecreteur demo`` reads the demo's journal, and nothing ever lands in
whatever directory a command happened to be started from. Relative paths inside the config
(``storage.path``) are relative to the data directory; certificate paths to the config file.

Resources (the demo site, scenarios, translations) ship in the package as ``ecreteur_resources``
(the ``resources/`` folder of the source tree), found with ``importlib.resources``.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path


def default_data_dir() -> Path:
    for variable in ("ECRETEUR_DATA_DIR", "STATE_DIRECTORY"):
        value = os.environ.get(variable)
        if value:
            return Path(value.split(":")[0])  # STATE_DIRECTORY may list several
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "ecreteur"


def config_home() -> Path:
    """Per-user settings of a control-room PC (the desktop's client profile)."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "ecreteur"


def resources() -> Path:
    """The resources folder, installed (a wheel, a package) or in the source tree."""
    try:
        return Path(str(importlib.resources.files("ecreteur_resources")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "resources"
