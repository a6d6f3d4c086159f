"""Fuzz: Stripe landing of hostile `.json` and `.jsonl` files never raises and conserves records.

Conservation here is the figure the `records_conserved` check reads from the ledger: per file,
records read = landed + quarantined + duplicates; and the lake holds exactly those rows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from uds_pipelines.lib import lake
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files
from uds_pipelines_tests.lib.ingest.fuzz_inputs import FUZZ, LANDING_FUZZ, hostile_files, seeds

STRIPE_JSONL = seeds("stripe/*.jsonl")
STRIPE_JSON = seeds("stripe/*.json", "stripe/stripe_cli_triggers/*.json")
# One connection for every example (as the asset passes its own): a new one per example is
# most of an example's time. Landing drops its temp tables and restores the settings it changes.
CON = lake.duckdb_connection(memory_limit="1GB")


def _rows(glob: Path) -> int:
    if not list(glob.parent.glob(glob.name)):
        return 0
    return CON.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0]


def _land_and_check(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inbox, lake_dir = Path(tmp) / "inbox", Path(tmp) / "lake"
        inbox.mkdir()
        paths = []
        for name, data in files.items():
            (inbox / name).write_bytes(data)
            paths.append(inbox / name)
        result = land_stripe_files(paths, lake_dir, con=CON)
        assert {f.file_name for f in result.files} == set(files)
        for stats in result.files:
            if stats.file_name.endswith(".jsonl"):  # nothing vanishes (an empty .json list is a delivery)
                assert stats.records_read >= 1, stats
            assert stats.records_read == (
                stats.records_landed + stats.records_quarantined + stats.duplicates_skipped
            ), stats
        assert _rows(lake_dir / "landed" / "stripe" / "*.parquet") == result.records_landed
        assert _rows(lake_dir / "quarantine" / "*.parquet") == result.records_quarantined
        assert all(q.reason and "Error" not in q.reason for q in result.quarantine)


@FUZZ
@given(jsonl=hostile_files(STRIPE_JSONL), single=hostile_files(STRIPE_JSON))
def test_hostile_stripe_files_land_or_are_quarantined(jsonl: bytes, single: bytes) -> None:
    _land_and_check({"events.jsonl": jsonl, "event.json": single})


@LANDING_FUZZ
@given(documents=st.lists(hostile_files(STRIPE_JSON), min_size=1, max_size=3))
def test_hostile_json_documents_in_one_batch(documents: list[bytes]) -> None:
    _land_and_check({f"evt_{i}.json": data for i, data in enumerate(documents)})
