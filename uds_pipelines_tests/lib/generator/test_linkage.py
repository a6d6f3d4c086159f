"""The record-linkage generator: deterministic, varied names, corruption that grows with the level and
takes every promised form, and ground truth for each record."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import phonenumbers
import pytest

from uds_pipelines.lib.generator.corruption_tables import ABBREVIATIONS, KEYBOARD_NEIGHBOURS, NICKNAMES
from uds_pipelines.lib.generator.linkage import (
    CORRUPTION_LEVELS,
    linkage_frame,
    linkage_records,
)

REPO = Path(__file__).resolve().parents[3]
FIELDS = ["first_name", "last_name", "date_of_birth", "address_line1", "city", "postcode"]


def with_originals(frame: pd.DataFrame) -> pd.DataFrame:
    """Each duplicate beside its person's original record (columns `<field>_orig`)."""
    originals = frame[frame["original"]].set_index("person_id")[FIELDS].add_suffix("_orig")
    return frame[~frame["original"]].join(originals, on="person_id")


@pytest.fixture(scope="module")
def high() -> pd.DataFrame:
    return with_originals(linkage_frame(6000, "high", seed=7))


def test_same_seed_gives_an_identical_frame_and_another_seed_a_different_one():
    a = linkage_records(1500, "medium", seed=3)
    assert a.equals(linkage_records(1500, "medium", seed=3))
    assert list(a.columns) == ["record_id", "person_id", *FIELDS]
    b = linkage_records(1500, "medium", seed=4)
    assert not a.equals(b)
    assert set(a["first_name"] + " " + a["last_name"]) != set(b["first_name"] + " " + b["last_name"])


def test_names_are_as_varied_as_a_real_population():
    originals = linkage_frame(20_000, "low", seed=1).query("original")
    full_names = (originals["first_name"] + " " + originals["last_name"]).nunique()
    # The pipeline generator's pools give under a thousand full names at any size.
    assert full_names >= 15_000
    assert originals["first_name"].nunique() >= 2_000 and originals["last_name"].nunique() >= 4_000
    assert originals["city"].nunique() >= 5_000 and originals["postcode"].nunique() >= 10_000
    # Common names are common: the pools keep Faker's frequencies.
    assert originals["last_name"].value_counts().iloc[0] >= 40
    # Many locales: German streets, French "rue", Dutch and Polish postcodes, UK postcodes.
    address, postcode = originals["address_line1"], originals["postcode"]
    assert address.str.contains("straße|str\\.", regex=True).sum() >= 100
    assert address.str.contains(" rue ").sum() >= 100
    assert postcode.str.fullmatch(r"\d{4} ?[A-Z]{2}").sum() >= 100
    assert postcode.str.fullmatch(r"\d{2}-\d{3}").sum() >= 100
    assert postcode.str.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}").sum() >= 100


def test_ground_truth_has_several_records_per_person_and_one_clean_original():
    frame = linkage_frame(3000, "medium", seed=2)
    assert frame["record_id"].is_unique and frame["person_id"].notna().all()
    records_per_person = frame.groupby("person_id").size()
    assert len(records_per_person) == 3000
    assert 2.5 <= records_per_person.mean() <= 3.3 and records_per_person.max() >= 8
    assert (records_per_person == 1).mean() == pytest.approx(0.2, abs=0.03)
    assert (frame.groupby("person_id")["original"].sum() == 1).all()
    originals = frame[frame["original"]]
    assert originals[FIELDS].notna().all().all()
    # Records are shuffled: ids in order do not run person by person.
    assert (frame["person_id"] != frame["person_id"].shift()).mean() > 0.9


def _differs(pairs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({f: pairs[f].fillna("<none>") != pairs[f + "_orig"] for f in FIELDS})


@pytest.mark.parametrize("level", [0.0, "low", "medium", "high"])
def test_only_level_zero_gives_exact_duplicates(level):
    pairs = with_originals(linkage_frame(500, level, seed=5))
    share = _differs(pairs).any(axis=1).mean()
    assert (share == 0) if level == 0.0 else (share > 0.2)


def test_more_corruption_damages_more_duplicates_and_more_fields():
    shares, fields = [], []
    for level in ("low", "medium", "high"):
        differs = _differs(with_originals(linkage_frame(3000, level, seed=9)))
        shares.append(differs.any(axis=1).mean())
        fields.append(differs.sum(axis=1)[differs.any(axis=1)].mean())
    assert shares[0] + 0.2 < shares[1] < shares[2] and shares[2] > 0.95
    assert fields[0] < fields[1] < fields[2]
    assert CORRUPTION_LEVELS["low"] < CORRUPTION_LEVELS["medium"] < CORRUPTION_LEVELS["high"]


def _one_replacement(orig: str | None, dup: str | None, pairs: list[tuple[str, str]]) -> bool:
    """`dup` is `orig` with exactly one occurrence of some `src` replaced by its `dst`."""
    if orig is None or dup is None:
        return False
    for src, dst in pairs:
        start = orig.find(src)
        while start >= 0:
            if orig[:start] + dst + orig[start + len(src) :] == dup:
                return True
            start = orig.find(src, start + 1)
    return False


def _count(pairs: pd.DataFrame, field: str, test) -> int:
    return sum(bool(test(o, d)) for o, d in zip(pairs[field + "_orig"], pairs[field], strict=True))


def _swapped_date(orig: str, dup: str | None) -> bool:
    y, m, d = orig.split("-")
    return dup == f"{y}-{d}-{m}" and d != m


def _transposed(orig: str, dup: str | None) -> bool:
    swaps = {orig[:i] + orig[i + 1] + orig[i] + orig[i + 2 :] for i in range(len(orig) - 1)}
    return dup != orig and dup is not None and dup.lower() in {s.lower() for s in swaps}


def _keyboard_substitution(orig: str, dup: str | None) -> bool:
    if dup is None or len(dup) != len(orig):
        return False
    diffs = [(a, b) for a, b in zip(orig.lower(), dup.lower(), strict=True) if a != b]
    return len(diffs) == 1 and diffs[0][1] in KEYBOARD_NEIGHBOURS.get(diffs[0][0], "")


def test_every_kind_of_corruption_occurs_at_high(high):
    abbreviations = list(ABBREVIATIONS.items()) + [(s, f) for f, s in ABBREVIATIONS.items()]
    found = {
        "nickname": _count(high, "first_name", lambda o, d: d in NICKNAMES.get(o, ())),
        "names swapped": int(
            (
                (high["first_name"] == high["last_name_orig"])
                & (high["last_name"] == high["first_name_orig"])
            ).sum()
        ),
        "day/month swapped": _count(high, "date_of_birth", _swapped_date),
        "date digits transposed": _count(high, "date_of_birth", _transposed),
        "abbreviation": _count(high, "address_line1", lambda o, d: _one_replacement(o, d, abbreviations)),
        "ocr rn/m": _count(
            high, "last_name", lambda o, d: _one_replacement(o, d, [("rn", "m"), ("m", "rn")])
        ),
        "ocr digit in a name": int(high["last_name"].str.contains("[0-9]", regex=True, na=False).sum()),
        "ocr in a postcode": _count(
            high,
            "postcode",
            lambda o, d: _one_replacement(o, d, [("0", "O"), ("1", "l"), ("5", "S"), ("8", "B")]),
        ),
        "phonetic": _count(
            high,
            "last_name",
            lambda o, d: _one_replacement(o, d, [("ph", "f"), ("ck", "k"), ("ll", "l"), ("tt", "t")]),
        ),
        "keyboard typo": _count(high, "city", _keyboard_substitution),
        "letters transposed": _count(high, "last_name", _transposed),
        "postcode digit": _count(high, "postcode", _keyboard_substitution),
        "house number": _count(
            high,
            "address_line1",
            lambda o, d: d is not None and d != o and d.strip("0123456789") == o.strip("0123456789"),
        ),
    }
    for field in FIELDS:
        found[f"missing {field}"] = int(high[field].isna().sum())
    assert {kind: n for kind, n in found.items() if n < 5} == {}


def test_day_and_month_are_only_swapped_when_both_could_be_a_month(high):
    dates = high.dropna(subset=["date_of_birth"])
    changed = dates[dates["date_of_birth"] != dates["date_of_birth_orig"]]
    swapped = changed[
        [
            _swapped_date(o, d)
            for o, d in zip(changed["date_of_birth_orig"], changed["date_of_birth"], strict=True)
        ]
    ]
    assert len(swapped) > 0
    assert (swapped["date_of_birth_orig"].str[-2:].astype(int) <= 12).all()
    # Every damaged date is still a real calendar date, written as ISO.
    assert pd.to_datetime(changed["date_of_birth"], format="%Y-%m-%d", errors="coerce").notna().all()


def test_bad_levels_are_refused():
    with pytest.raises(ValueError, match="one of"):
        linkage_records(10, "extreme")
    with pytest.raises(ValueError, match="0..1"):
        linkage_records(10, 1.5)


def test_identifiers_are_optional_belong_to_one_person_and_leave_the_rest_alone():
    plain = linkage_frame(800, "medium", seed=6)
    assert "email" not in plain and "phone" not in plain
    with_ids = linkage_frame(800, "medium", seed=6, identifiers=0.4)
    assert with_ids.drop(columns=["email", "phone"]).equals(plain)
    for column in ("email", "phone"):
        assert with_ids[column].notna().mean() == pytest.approx(0.4, abs=0.05)
        carried = with_ids.dropna(subset=[column])
        assert (carried.groupby(column)["person_id"].nunique() == 1).all()
        assert (carried.groupby("person_id")[column].nunique() == 1).all()
    phones = with_ids["phone"].dropna()
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones)
    assert with_ids["email"].dropna().str.fullmatch(r"[a-z0-9]+\.[a-z0-9]+\d*@[a-z.]+").all()


_DIGEST_IN_A_FRESH_PROCESS = """
import hashlib
from uds_pipelines.lib.generator import linkage_pools
from uds_pipelines.lib.generator.linkage import linkage_frame
linkage_pools.NAME_POOL = linkage_pools.PLACE_POOL = linkage_pools.POSTCODE_POOL = 300  # quick
frame = linkage_frame(400, "high", seed=1, identifiers=0.5)
print(hashlib.sha256(frame.to_csv().encode()).hexdigest())
"""


def test_output_does_not_depend_on_the_python_hash_seed():
    """Faker builds some lists from sets (it_IT cities); their order must not leak into the draws."""

    def digest(hash_seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        run = subprocess.run(
            [sys.executable, "-c", _DIGEST_IN_A_FRESH_PROCESS],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip()

    assert digest("1") == digest("2")
