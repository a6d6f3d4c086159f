"""Person names: a tidy display form, an accent-free match key, and first/last splitting."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from uds_pipelines.lib.normalize.text import fold

# Surname particles kept lower-case inside a name ("Ludwig van Beethoven", "van der Berg").
# "le"/"di"-style particles that are also common given names or East Asian surnames are left out.
PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "da", "das", "dos", "du", "del", "della", "ter", "ten", "zu", "la"}
)
TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "herr", "frau", "mme", "mlle", "sr", "sra"}
)
_SPACE = re.compile(r"\s+")
_WORD_SPLIT = re.compile(r"([\-'’])")


@dataclass(frozen=True)
class NameResult:
    original: str | None
    normalized: str | None
    match_key: str | None


def _is_symbol(char: str) -> bool:
    """Emoji, pictographs, joiners and variation selectors: never part of a name."""
    category = unicodedata.category(char)
    return (
        category in ("So", "Sk", "Cs", "Co", "Cn")
        or char in "\u200d\u200c\ufe0e\ufe0f"
        or (category == "Mn" and 0x1F3FB <= ord(char) <= 0x1F3FF)
    )


def _lower_rest(text: str) -> str:
    # "İ".lower() adds a combining dot (i + U+0307); plain "i" is what people mean.
    return text.replace("İ", "i").lower()


def _capitalize(part: str) -> str:
    if not part:
        return part
    head = part[0] if part[0].isupper() else part[0].title()
    head = head[0] + _lower_rest(head[1:]) if len(head) > 1 else head
    rest = _lower_rest(part[1:])
    word = head + rest
    # "mcdonald" -> "McDonald"; "Mac" is left alone because Mack, Macy, Machado are common names.
    if len(word) > 3 and word.startswith("Mc") and word[2].isalpha():
        word = "Mc" + word[2].upper() + word[3:]
    return word


def _case_word(word: str, position: int, count: int) -> str:
    letters = [c for c in word if c.isalpha()]
    uniform = all(c.islower() for c in letters) or all(c.isupper() for c in letters)
    lowered = fold(word)
    if lowered in PARTICLES and position < count - 1 and uniform:
        return _lower_rest(word)
    if not uniform:
        return word  # deliberate mixed case such as "McDonald" or "DeShawn"
    return "".join(
        _capitalize(piece) if i % 2 == 0 else piece for i, piece in enumerate(_WORD_SPLIT.split(word))
    )


def clean_name(raw: str) -> str:
    """NFC, symbols removed, whitespace collapsed; no case change."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(" " if _is_symbol(c) or c.isspace() else c for c in text)
    return _SPACE.sub(" ", text).strip(" ,;")


def name_key(text: str) -> str:
    """Lower-case letters only, accents and special letters folded: 'Zoë 🌟' -> 'zoe'."""
    return "".join(c for c in fold(text) if c.isalpha())


@lru_cache(maxsize=262_144)
def normalize_name(raw: str | None) -> NameResult:
    """Display form and match key; empty or symbol-only input gives None for both."""
    if raw is None or not isinstance(raw, str):
        return NameResult(raw, None, None)
    words = clean_name(raw).split(" ")
    words = [w for w in words if w]
    if not words or not any(c.isalpha() for c in "".join(words)):
        return NameResult(raw, None, None)
    normalized = " ".join(_case_word(word, i, len(words)) for i, word in enumerate(words))
    return NameResult(raw, normalized, name_key(normalized) or None)


def split_full_name(full: str | None) -> tuple[str | None, str | None]:
    """(first, last): 'Ludwig van Beethoven' -> ('Ludwig', 'van Beethoven'); 'Doe, Jane' -> ('Jane', 'Doe')."""
    if full is None or not isinstance(full, str):
        return None, None
    text = clean_name(full)
    if "," in text:
        last, _, first = text.partition(",")
        return normalize_name(first).normalized, normalize_name(last).normalized
    normalized = normalize_name(text).normalized
    if normalized is None:
        return None, None
    words = normalized.split(" ")
    while len(words) > 1 and fold(words[0]).rstrip(".") in TITLES:
        words = words[1:]
    if len(words) == 1:
        return words[0], None
    start = len(words) - 1
    while start > 1 and fold(words[start - 1]) in PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:])
