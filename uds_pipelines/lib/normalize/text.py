"""Shared text folding used by the name and country keys."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose into base + combining mark but that people write as ASCII.
_FOLD = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "ı": "i",
        "İ": "i",
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ħ": "h",
        "Ħ": "h",
    }
)
_NON_WORD = re.compile(r"[^\w]+|_")


def fold(text: str) -> str:
    """Lower-case, strip diacritics and map special letters to their ASCII spelling."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD)).lower()
    return "".join(c for c in text if not unicodedata.combining(c))


def fold_words(text: str) -> str:
    """`fold` plus punctuation turned into single spaces: 'U.S.A.' -> 'u s a'."""
    return _NON_WORD.sub(" ", fold(text)).strip()
