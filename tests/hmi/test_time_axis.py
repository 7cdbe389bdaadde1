"""Chart axes in the site's time and the screen's language: a French screen reads "mer. 03"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtGui import QFont, QFontMetrics

from hmi.widgets import timeaxis
from hmi.widgets.timeaxis import site_time_axis


def day_ticks(language: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(timeaxis, "language", lambda: language)
    axis = site_time_axis("Europe/Paris")
    axis.fontMetrics = QFontMetrics(QFont())  # set by its first paint on a screen
    start = datetime(2026, 12, 1, tzinfo=UTC).timestamp()  # a Tuesday
    levels = axis.tickValues(start, start + 2 * 86_400, 1500)  # two days on a wide chart
    spacing, values = next((s, v) for s, v in levels if s == 86_400)
    return axis.tickStrings(values, 1.0, spacing)


def test_a_french_screen_names_its_days_in_french(qapp: object, monkeypatch: pytest.MonkeyPatch) -> None:
    french = day_ticks("fr", monkeypatch)
    assert "mer. 02" in french and not any("Wed" in text for text in french)
    assert "Wed 02" in day_ticks("en", monkeypatch)


def test_a_trend_says_which_time_its_axis_is_in(qapp: object) -> None:
    from datetime import timedelta

    assert timeaxis.zone_name("Europe/Paris", timedelta(hours=1)) == "Paris time (UTC+1)"
    assert (
        timeaxis.zone_name("America/St_Johns", timedelta(hours=-3, minutes=-30)) == "St Johns time (UTC-3:30)"
    )
    assert site_time_axis("Europe/Paris", named=True).labelText.startswith("Paris time (UTC+")
