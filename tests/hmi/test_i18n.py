"""Every string the desktop shows has its French, and the compiled .qm matches the .ts."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from core.model import AlarmAction
from hmi.views.alarms import AlarmsView
from hmi.views.journal import PERIODS, JournalView
from hmi.views.synoptic import LABELS
from hmi.window import ROLES, UNREACHABLE

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "resources" / "i18n"))

from translations import FRENCH, compile_qm  # noqa: E402


def shown_strings() -> set[str]:
    actions = {action.value for action in AlarmAction if action is not AlarmAction.REJECTED}
    periods = {label for label, _span in PERIODS}
    found: set[str] = (
        (set(AlarmsView.COLUMNS) | set(LABELS.values()) | set(JournalView.COLUMNS) | actions | periods)
        | set(ROLES.values())
        | {UNREACHABLE}
    )
    for path in (REPO / "hmi").rglob("*.py"):
        found |= set(re.findall(r'\btr\("([^"]+)"\)', path.read_text(encoding="utf-8")))
    return found


def test_every_desktop_string_is_translated() -> None:
    missing = sorted(shown_strings() - set(FRENCH))
    assert missing == []


def test_the_compiled_translation_is_up_to_date(tmp_path: Path) -> None:
    ts = REPO / "resources" / "i18n" / "ecreteur_fr.ts"
    for english, french in FRENCH.items():
        text = ts.read_text(encoding="utf-8")
        assert f"<translation>{french.replace('&', '&amp;')}</translation>" in text, english
    compile_qm(ts, tmp_path / "fr.qm")
    assert (tmp_path / "fr.qm").read_bytes() == (REPO / "resources" / "i18n" / "ecreteur_fr.qm").read_bytes()
