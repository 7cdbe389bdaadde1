"""SMS text in the GSM 7-bit alphabet: one character that is not in it (an em dash, a "ê",
a "³") turns the whole message into UCS-2, 70 characters a segment instead of 160, and a
critical page then costs four segments a person. Fold such characters to their nearest GSM-7
spelling, and count segments as the network bills them.
"""

from __future__ import annotations

import math

BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENDED = set("^{}\\[~]|€\f")  # two septets each (an escape, then the character)
_FOLD = {
    "—": "-", "–": "-", "−": "-", "‑": "-", "…": "...", "’": "'", "‘": "'", "“": '"', "”": '"', "«": '"',
    "»": '"', "\u00a0": " ", "\u202f": " ", "³": "3", "²": "2", "°": "deg", "×": "x",
    "â": "a", "ê": "e", "î": "i", "ô": "o", "û": "u", "ë": "e", "ï": "i", "ÿ": "y", "ç": "c", "œ": "oe",
    "Â": "A", "Ê": "E", "Î": "I", "Ô": "O", "Û": "U", "È": "E", "Ë": "E", "Ï": "I", "À": "A", "Œ": "OE",
    "á": "a", "í": "i", "ó": "o", "ú": "u", "ã": "a", "õ": "o",
}  # fmt: skip
SINGLE, PART = 160, 153  # septets in one message, and in each part of a longer one


def fold(text: str) -> str:
    """``text`` in GSM-7 only: each other character by its nearest spelling, or "?"."""
    return "".join(c if c in BASIC or c in EXTENDED else _FOLD.get(c, "?") for c in text)


def septets(text: str) -> int:
    """The length of a GSM-7 text as sent (``text`` already folded)."""
    return sum(2 if c in EXTENDED else 1 for c in text)


def cut(text: str, limit: int) -> str:
    """The longest start of ``text`` that is at most ``limit`` septets."""
    used = 0
    for i, c in enumerate(text):
        used += 2 if c in EXTENDED else 1
        if used > limit:
            return text[:i]
    return text


def segments(text: str) -> int:
    """How many SMS the text is sent as: GSM-7 when it is all GSM-7, else UCS-2."""
    if all(c in BASIC or c in EXTENDED for c in text):
        length = septets(text)
        return 1 if length <= SINGLE else math.ceil(length / PART)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)
