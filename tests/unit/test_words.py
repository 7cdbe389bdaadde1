"""The engine's sentences are one catalogue a translator can edit without breaking a page."""

from __future__ import annotations

import string

from core import words


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_sentence_is_in_french_and_english_with_the_same_fields() -> None:
    """A translation that drops or renames a {field} would fail when the page is written."""
    for section, entries in words.catalogue().items():
        for entry, texts in entries.items():
            assert set(texts) == {"fr", "en"}, f"{section}.{entry}: {sorted(texts)}"
            assert texts["fr"].strip() and texts["en"].strip(), f"{section}.{entry} is empty"
            assert fields(texts["fr"]) == fields(texts["en"]), f"{section}.{entry}: the fields differ"


def test_a_sentence_is_said_in_the_person_s_language_french_by_default() -> None:
    assert words.say("reply.acknowledged", "en", code="12") == "Alarm 12 acknowledged. Thank you."
    assert words.say("reply.acknowledged", "fr", code="12") == "Alarme 12 acquittée. Merci."
    assert words.say("reply.acknowledged", "oc", code="12") == "Alarme 12 acquittée. Merci."
