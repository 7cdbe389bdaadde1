"""Writes the dashboards back into the site config, keeping every comment of the file.

The file is read as ruamel's round-trip tree, only the ``dashboards`` section is replaced, and
the result is validated as a whole before it atomically replaces the original: an edit from
the desktop can never leave a broken config behind.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from core.config.dashboards import Dashboard
from core.config.loader import load_config
from core.config.schema import SiteConfig


def _flow(mapping: dict[str, object]) -> CommentedMap:
    node = CommentedMap(mapping)
    node.fa.set_flow_style()
    return node


def _tree(dashboards: list[Dashboard]) -> CommentedSeq:
    out = CommentedSeq()
    for dashboard in dashboards:
        data = dashboard.model_dump(mode="json", exclude_defaults=True)
        cards = CommentedSeq(_flow(card) for card in data.pop("cards", []))
        node = CommentedMap(data)
        node["title"] = _flow(data["title"])
        node["cards"] = cards
        out.append(node)
    return out


def save_dashboards(path: Path, dashboards: list[Dashboard]) -> SiteConfig:
    """Replace the ``dashboards`` section of ``path``; return the config as now saved."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 110
    tree = yaml.load(path.read_text(encoding="utf-8"))
    tree["dashboards"] = _tree(dashboards)
    text = io.StringIO()
    yaml.dump(tree, text)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text.getvalue())
        config = load_config(Path(temporary))  # the whole file must still be valid
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return config
