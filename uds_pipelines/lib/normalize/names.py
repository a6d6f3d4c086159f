"""Person names: a tidy display form, an accent-free match key, and first/last splitting."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from nameparser import HumanName
from nameparser.config import CONSTANTS

from uds_pipelines.lib.normalize.text import fold

# Surname particles kept lower-case inside a name ("Ludwig van Beethoven", "van der Berg").
# "le"/"di"-style particles that are also common given names or East Asian surnames are left out.
PARTICLES = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "de",
        "da",
        "das",
        "dos",
        "du",
        "del",
        "della",
        "los",
        "las",
        "ter",
        "ten",
        "zu",
        "la",
    }
)
_SPACE = re.compile(r"\s+")
_WORD_SPLIT = re.compile(r"([\-'’])")
# Commas ("Doe, Jane"), periods ("Dr.", "Jr.") and brackets or quotes (nicknames) need nameparser.
_NAME_MARKS = re.compile(r"[,.()\"“”]")
_ROMAN = re.compile(r"[ivxlcdm]+", re.IGNORECASE)  # "Koen VI": nameparser reads a numeral as a suffix


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


@lru_cache(maxsize=262_144)  # names repeat across records; nameparser costs about 300 us a name
def split_name_parts(full: str | None) -> tuple[str | None, str | None]:
    """(given names, family name) as written, by `nameparser`: titles and suffixes dropped, middle
    names kept with the given name, particles with the surname ('Smith, John, Jr.' -> John / Smith)."""
    if full is None or not isinstance(full, str):
        return None, None
    text = clean_name(full)
    words = text.split(" ")
    if len(words) == 2 and not _NAME_MARKS.search(text) and not _known_name_word(words):
        return words[0], words[1]  # "Emily Taylor": nameparser's answer without its 90 us
    name = HumanName(text)
    given = " ".join(part for part in (name.first, name.middle) if part)
    return given or None, name.last or None


def split_full_name(full: str | None) -> tuple[str | None, str | None]:
    """(first, last) in display form: 'Ludwig van Beethoven' -> ('Ludwig', 'van Beethoven'),
    'Doe, Jane' -> ('Jane', 'Doe'), 'Jean-Luc Picard III' -> ('Jean-Luc', 'Picard')."""
    given, family = split_name_parts(full)
    return _normalized(given), _normalized(family)


def _normalized(part: str | None) -> str | None:
    return normalize_name(part).normalized if part else None


def _known_name_word(words: list[str]) -> bool:
    """A word nameparser reads as a title, suffix, particle or conjunction ('Dr', 'III', 'van')."""
    return any(_ROMAN.fullmatch(word) for word in words) or any(
        word.lower() in vocabulary
        for word in words
        for vocabulary in (
            CONSTANTS.titles, CONSTANTS.suffix_acronyms, CONSTANTS.suffix_not_acronyms,
            CONSTANTS.prefixes, CONSTANTS.conjunctions,
        )
    )  # fmt: skip
