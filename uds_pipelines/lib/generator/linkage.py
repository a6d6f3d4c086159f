"""Person records for record-linkage evaluation: several damaged records per true person.

Unlike the pipeline generator's small clean pools, people here come from Faker pools in many
locales (tens of thousands of distinct names per 100k people), and each person has one clean
record plus a skewed number of duplicates damaged as real records are (`linkage_duplicates`). By
default no record carries an email, phone or other shared identifier: only names, birth date and
address; `identifiers` adds an email and a phone to a share of the records.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from uds_pipelines.lib.generator.linkage_duplicates import FIELDS, corrupt_duplicates
from uds_pipelines.lib.generator.linkage_pools import (
    LOCALE_WEIGHTS,
    address_lines,
    contact_details,
    linkage_pools,
)
from uds_pipelines.lib.generator.writer import Inbox, write_parquet

CORRUPTION_LEVELS = {"low": 0.2, "medium": 0.5, "high": 0.85}
# Duplicates per person (0..9), skewed as in FEBRL-style generators: most people have one or two
# extra records, a few have many. Mean about 1.9, so about 2.9 records per person.
DUPLICATE_WEIGHTS = np.array([0.20, 0.30, 0.18, 0.11, 0.07, 0.05, 0.035, 0.025, 0.018, 0.012])
# Birth dates of adults (18 to 85) in a world whose "today" is 2026-01-01.
YOUNGEST_BIRTH_DATE = np.datetime64("2007-12-31")
AGE_SPAN_DAYS = 67 * 365
# Form submission times for the written CSV: one year from this instant.
SUBMISSIONS_FROM = np.datetime64("2025-01-01T00:00:00")


def corruption_level(corruption: float | str) -> float:
    """A preset name or a number in 0..1 as the corruption level."""
    if isinstance(corruption, str):
        if corruption not in CORRUPTION_LEVELS:
            raise ValueError(f"corruption must be one of {sorted(CORRUPTION_LEVELS)} or a number in 0..1")
        return CORRUPTION_LEVELS[corruption]
    level = float(corruption)
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"corruption level must be in 0..1, got {corruption}")
    return level


def _people(count: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Clean attributes of `count` people, each drawn from the pools of one locale, and the
    index of each person's locale in `LOCALE_WEIGHTS`."""
    pools = linkage_pools()
    weights = np.array(list(LOCALE_WEIGHTS.values()))
    locale_of = rng.choice(len(pools), size=count, p=weights / weights.sum())
    people = {field: np.empty(count, dtype=object) for field in FIELDS}
    for index, pool in enumerate(pools):
        rows = np.flatnonzero(locale_of == index)
        n = len(rows)
        people["first_name"][rows] = pool.first_names[rng.integers(0, len(pool.first_names), n)]
        people["last_name"][rows] = pool.last_names[rng.integers(0, len(pool.last_names), n)]
        # House numbers are log-uniform: low numbers are much more common than 200s.
        numbers = np.exp(rng.uniform(0.0, np.log(300.0), n)).astype(np.int64)
        streets = pool.streets[rng.integers(0, len(pool.streets), n)]
        people["address_line1"][rows] = address_lines(pool.locale, numbers, streets)
        people["city"][rows] = pool.cities[rng.integers(0, len(pool.cities), n)]
        people["postcode"][rows] = pool.postcodes[rng.integers(0, len(pool.postcodes), n)]
    births = YOUNGEST_BIRTH_DATE - rng.integers(0, AGE_SPAN_DAYS, count).astype("timedelta64[D]")
    people["date_of_birth"] = np.datetime_as_string(births, unit="D").astype(object)
    return people, locale_of


def _identifiers(
    clean: dict[str, np.ndarray], locale_of: np.ndarray, person_of: np.ndarray, share: float, seed: int
) -> dict[str, np.ndarray]:
    """Email and phone columns: each record carries its person's email with probability `share`,
    and independently the phone. Drawn from their own generator, so the rest of the frame is the
    same with or without them."""
    rng = np.random.default_rng([seed, 18])
    emails, phones = contact_details(clean["first_name"], clean["last_name"], locale_of, rng)
    columns = {}
    for name, values in (("email", emails), ("phone", phones)):
        column = values[person_of]
        column[rng.random(len(person_of)) >= share] = None
        columns[name] = column
    return columns


def linkage_frame(
    people: int, corruption: float | str = "medium", seed: int = 0, identifiers: float = 0.0
) -> pd.DataFrame:
    """`linkage_records` plus `original` (True for each person's one undamaged record)."""
    if not 0.0 <= identifiers <= 1.0:
        raise ValueError(f"identifiers must be a share in 0..1, got {identifiers}")
    if people < 1:
        raise ValueError("people must be at least 1")
    level = corruption_level(corruption)
    rng = np.random.default_rng([seed, 16])
    rnd = random.Random(seed)
    clean, locale_of = _people(people, rng)
    duplicates = rng.choice(
        len(DUPLICATE_WEIGHTS), size=people, p=DUPLICATE_WEIGHTS / DUPLICATE_WEIGHTS.sum()
    )
    person_of = np.repeat(np.arange(people), 1 + duplicates)
    starts = np.concatenate([[0], np.cumsum(1 + duplicates)[:-1]])
    original = np.zeros(len(person_of), dtype=bool)
    original[starts] = True
    columns = {field: values[person_of] for field, values in clean.items()}
    corrupt_duplicates(columns, np.flatnonzero(~original), level, rng, rnd)
    if identifiers > 0:
        columns |= _identifiers(clean, locale_of, person_of, identifiers, seed)
    # Shuffled, so neither record ids nor file order tell which records belong together.
    order = rng.permutation(len(person_of))
    # Object columns, so a missing value is None (pandas would make string columns hold NaN).
    text = {
        "record_id": [f"r{i:07d}" for i in range(1, len(order) + 1)],
        "person_id": [f"p{i:07d}" for i in (person_of[order] + 1).tolist()],
        **{name: values[order] for name, values in columns.items()},
    }
    frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in text.items()})
    frame["original"] = original[order]
    return frame


def linkage_records(
    people: int, corruption: float | str = "medium", seed: int = 0, *, identifiers: float = 0.0
) -> pd.DataFrame:
    """Columns: record_id (str, unique, 'r0000001'), person_id (str, truth), first_name, last_name,
    date_of_birth (str 'YYYY-MM-DD' or None), address_line1, city, postcode (str or None).
    The same arguments always give the identical frame. With `identifiers` > 0, also `email` and
    `phone` (E.164), each present on about that share of records (never damaged)."""
    return linkage_frame(people, corruption, seed, identifiers).drop(columns="original")


def forms_csv_bytes(frame: pd.DataFrame, seed: int) -> bytes:
    """The records as a flat web-form CSV export: `submission_id` is the record id."""
    rng = np.random.default_rng([seed, 17])
    seconds = rng.integers(0, 365 * 86400, len(frame)).astype("timedelta64[s]")
    submitted = np.datetime_as_string(SUBMISSIONS_FROM + seconds, unit="s")
    export = pd.DataFrame({"submission_id": frame["record_id"], "submitted_at": np.char.add(submitted, "Z")})
    for column in frame.columns.drop(["record_id", "person_id", "original"], errors="ignore"):
        export[column] = frame[column]
    buffer = io.StringIO()
    export.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def write_linkage_forms(
    out_dir: Path, people: int, corruption: float | str = "medium", seed: int = 0, *, identifiers: float = 0.0
) -> tuple[Path, Path]:
    """Write the records as a flat form CSV, `out_dir/inbox/forms/linkage_<seed>.csv`, and the truth
    as `out_dir/ground_truth/linkage_truth.parquet` (record_id = the CSV's submission_id and the
    identity map's record_id for source `form`; person_id; original). Returns (csv path, truth path)."""
    out_dir = Path(out_dir)
    frame = linkage_frame(people, corruption, seed, identifiers)
    inbox = Inbox(out_dir)
    relative = inbox.write_bytes(f"forms/linkage_{seed}.csv", forms_csv_bytes(frame, seed))
    truth = pa.table(
        {
            "record_id": pa.array(frame["record_id"].tolist(), pa.string()),
            "person_id": pa.array(frame["person_id"].tolist(), pa.string()),
            "original": pa.array(frame["original"].tolist(), pa.bool_()),
        }
    )
    truth_path = out_dir / "ground_truth" / "linkage_truth.parquet"
    write_parquet(truth, truth_path)
    return inbox.path(relative), truth_path
