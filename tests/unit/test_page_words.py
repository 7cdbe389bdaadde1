"""What an on-call person reads at 3 a.m. (issue 34, item 2): the dam, the level now with its
unit, its trend, the crest to come and when, how many others were paged — and an SMS that fits
two GSM-7 segments with its link, so a critical page costs two messages, not four."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.model import Outlook, Priority, Situation
from core.notify import gsm, messages

PARIS = ZoneInfo("Europe/Paris")
T = datetime(2026, 11, 3, 2, 40, tzinfo=UTC)  # 03:40 in Paris
LINK = "https://scada.syndicat-rivieres.example/i/12?t=" + "x" * 43  # a signed link's length


def _line(message: str, station: str = "Barrage de Sainte-Cécile") -> messages.AlarmLine:
    crest = Outlook(T, 14.62, 300.0, (15.0, 15.4), 15.91, T + timedelta(minutes=95), 15.7, 16.1)
    now = Situation(value=14.62, decimals=2, rate_per_h=0.53, crest=crest)
    return messages.AlarmLine("a", station, Priority.CRITICAL, message, message, 14.5, "m", now)


def test_an_sms_names_its_dam_level_trend_and_crest_in_french_numbers() -> None:
    text = messages.sms("12", [_line("Barrage de Sainte-Cécile — Niveau haut : 14,50 m (seuil 14,50 m)")],
                        "fr", PARIS, others=2)  # fmt: skip
    assert text == (
        "[12] CRITIQUE Barrage de Sainte-Cécile - Niveau haut : 14,50 m (seuil 14,50 m), maintenant 14,62 m, "
        "tendance +0,53 m/h, crete prévue 15,91 m vers 05:15, 2 autres personnes alertées. "
        "Répondez OK 12 pour acquitter."
    )


def test_a_long_critical_sms_with_its_link_fits_two_gsm7_segments() -> None:
    """The em dash, "ê" and "³" of a message would force UCS-2 (70 characters a segment)."""
    long = (
        "Barrage de la Haute-Vallée de l'Orbieu — Débit déversé très haut : 412,5 m³/s "
        "(seuil 380,0 m³/s) — crête prévue à l'aube, vérifiez la vanne de fond et prévenez la mairie"
    )
    lines = [_line(long, "Barrage de la Haute-Vallée de l'Orbieu"), _line("second")]
    for language in ("fr", "en"):
        room = gsm.PART * messages.SMS_SEGMENTS - len(LINK) - 1
        text = messages.sms("12", lines, language, PARIS, others=3, room=room) + " " + LINK
        assert gsm.segments(text) <= 2, (language, text)
        assert text.startswith("[12] ") and "Haute-Vallée de l'Orbieu" in text
        assert "OK 12" in text and text.endswith(LINK)  # never cut: the way to acknowledge


def test_folding_keeps_gsm7_and_counts_segments_as_the_network_bills() -> None:
    assert gsm.fold("Crête — 3 m³/s") == "Crete - 3 m3/s"
    assert gsm.segments("é" * 160) == 1 and gsm.segments("é" * 161) == 2
    assert gsm.segments("ê" * 70) == 1 and gsm.segments("ê" * 71) == 2  # UCS-2
    assert gsm.segments("€" * 80) == 1 and gsm.segments("€" * 81) == 2  # two septets each


def test_the_email_tells_the_crest_and_who_else_was_paged() -> None:
    subject, body = messages.email("12", [_line("Barrage de Sainte-Cécile — Niveau haut")], "en",
                                   T, PARIS, others=1)  # fmt: skip
    assert "Barrage de Sainte-Cécile" in subject
    assert "now 14.62 m, trend +0.53 m/h, crest expected 15.91 m about 05:15" in body
    assert "1 other person paged" in body
