"""Damaging duplicate records: which fields of which duplicates, with which kind of corruption.

The choices (is a duplicate damaged, how many fields, which ones, which kind) are drawn for all
duplicates at once with numpy; only the damaged cells then run a small Python function each.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from uds_pipelines.lib.generator import corruption as c

FIELDS = ("first_name", "last_name", "date_of_birth", "address_line1", "city", "postcode")
# How likely each field is to be among a duplicate's damaged ones (names are retyped most).
FIELD_WEIGHTS = np.array([1.0, 1.0, 0.8, 1.0, 0.6, 0.8])

MISSING = "missing"
SWAP_NAMES = "swap_names"
# Field -> corruption kind -> relative weight.
FIELD_KINDS: dict[str, dict[str, float]] = {
    "first_name": {
        "keyboard": 3,
        "ocr": 1,
        "phonetic": 2,
        "transpose": 2,
        "nickname": 3,
        SWAP_NAMES: 1,
        MISSING: 1.5,
    },
    "last_name": {"keyboard": 3, "ocr": 1, "phonetic": 3, "transpose": 2, SWAP_NAMES: 1, MISSING: 1},
    "date_of_birth": {"swap_day_month": 3, "date_digit": 2, "date_transpose": 2, MISSING: 2},
    "address_line1": {"abbreviation": 4, "keyboard": 2, "ocr": 1, "house_number": 2, MISSING: 1.5},
    "city": {"keyboard": 2, "phonetic": 2, "transpose": 1, "ocr": 1, MISSING: 2},
    "postcode": {"postcode_digit": 3, "transpose": 2, "ocr": 1, MISSING: 2},
}
KIND_FUNCTIONS: dict[str, Callable[[str, random.Random], str | None]] = {
    "keyboard": c.keyboard_typo,
    "ocr": c.ocr_error,
    "phonetic": c.phonetic_spelling,
    "transpose": c.transposition,
    "nickname": c.nickname,
    "abbreviation": c.abbreviation,
    "house_number": c.number_error,
    "postcode_digit": c.postcode_digit,
    "swap_day_month": c.swapped_day_month,
    "date_digit": c.date_digit,
    "date_transpose": c.date_transposition,
}
# When a kind cannot apply (no nickname for "Zoë", a day above 12), the nearest that always can.
_DATE_FALLBACKS = (c.date_transposition, c.date_digit)


def corruption_plan(
    duplicates: int, level: float, rng: np.random.Generator
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Field -> (positions among the duplicates, kind names) of the cells to damage.

    `level` (0..1) sets both how often a duplicate differs at all and how many of its fields do:
    about 0.3 of duplicates with 1.5 fields at 0.2, all of them with 2.9 fields at 0.85."""
    damaged = rng.random(duplicates) < min(1.0, 1.6 * level)
    field_count = np.where(damaged, 1 + rng.binomial(len(FIELDS) - 1, min(1.0, 0.45 * level), duplicates), 0)
    # Weighted sampling of `field_count` distinct fields per duplicate (Efraimidis-Spirakis keys).
    keys = rng.random((duplicates, len(FIELDS))) ** (1.0 / FIELD_WEIGHTS)
    rank = (-keys).argsort(axis=1).argsort(axis=1)
    chosen = rank < field_count[:, None]
    plan = {}
    for column, field in enumerate(FIELDS):
        positions = np.flatnonzero(chosen[:, column])
        kinds = list(FIELD_KINDS[field])
        weights = np.array(list(FIELD_KINDS[field].values()), dtype=float)
        picks = rng.choice(len(kinds), size=len(positions), p=weights / weights.sum())
        plan[field] = (positions, np.array(kinds, dtype=object)[picks])
    return plan


def _damage(field: str, kind: str, value: str, rnd: random.Random) -> str | None:
    result = KIND_FUNCTIONS[kind](value, rnd)
    if result is not None and result != value:
        return result
    if field == "date_of_birth":
        for fallback in _DATE_FALLBACKS:
            result = fallback(value, rnd)
            if result is not None:
                return result
        return value
    return c.keyboard_typo(value, rnd)


def corrupt_duplicates(
    columns: dict[str, np.ndarray],
    duplicate_rows: np.ndarray,
    level: float,
    rng: np.random.Generator,
    rnd: random.Random,
) -> None:
    """Damage the rows `duplicate_rows` of `columns` (object arrays, changed in place)."""
    plan = corruption_plan(len(duplicate_rows), level, rng)
    # First and last name exchanged is one event on two fields: do it first, once per record.
    swapped = np.unique(
        np.concatenate(
            [
                duplicate_rows[pos[kinds == SWAP_NAMES]]
                for pos, kinds in (plan["first_name"], plan["last_name"])
            ]
        )
    )
    first, last = columns["first_name"], columns["last_name"]
    first[swapped], last[swapped] = last[swapped], first[swapped].copy()
    retype = min(1.0, 0.3 * level)  # at high levels a damaged text field may take a second typo
    for field in FIELDS:
        values = columns[field]
        positions, kinds = plan[field]
        second = rng.random(len(positions)) < retype
        for row, kind, again in zip(
            duplicate_rows[positions].tolist(), kinds.tolist(), second.tolist(), strict=True
        ):
            if kind == SWAP_NAMES:
                continue
            if kind == MISSING:
                values[row] = None
                continue
            value = _damage(field, kind, values[row], rnd)
            if again and field != "date_of_birth" and value:
                value = c.keyboard_typo(value, rnd)
            values[row] = value
