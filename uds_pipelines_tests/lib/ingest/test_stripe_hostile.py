"""Hostile Stripe files: each is quarantined with a specific reason and never stops the batch."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import duckdb

from uds_pipelines.lib import lake
from uds_pipelines.lib.ingest import stripe_files
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files
from uds_pipelines_tests.lib.ingest.test_stripe_files import event, fixture, landed, write_jsonl

SAMPLES = Path(__file__).parents[3] / "data" / "samples" / "inbox" / "stripe"
SAMPLE_EVENT = SAMPLES / "evt_16NE7xzyucBlP7CwQS7XrXfp.json"


def _reasons(result) -> dict[tuple[str, int], str]:
    return {(q.source_file, q.position): q.reason for q in result.quarantine}


def _charge_line(realdata: Path, event_id: str, amount_text: str) -> str:
    """A real charge event whose amount is replaced by `amount_text` verbatim (json.dumps cannot write 1e400)."""
    charge = fixture(realdata, "charge") | {"amount": 424242}
    text = json.dumps(event(event_id, "charge.succeeded", 1700000000, charge))
    assert text.count("424242") == 1
    return text.replace("424242", amount_text)


def test_deeply_nested_json_file_is_quarantined_and_the_rest_lands(tmp_path):
    deep = tmp_path / "in" / "deep.json"
    deep.parent.mkdir()
    deep.write_text("[" * 100_000)
    good = shutil.copy(SAMPLE_EVENT, tmp_path / "in" / SAMPLE_EVENT.name)
    deep_line = write_jsonl(tmp_path / "in" / "deep_line.jsonl", ["[" * 100_000, '{"a": ' * 50_000])

    result = land_stripe_files([deep, Path(good), deep_line], tmp_path / "lake")

    assert _reasons(result) == {
        ("deep.json", 0): "JSON nested too deeply to read",
        ("deep_line.jsonl", 1): "JSON nested too deeply to read at line 1",
        ("deep_line.jsonl", 2): "JSON nested too deeply to read at line 2",
    }
    assert [r["event_id"] for r in landed(tmp_path / "lake")] == [SAMPLE_EVENT.stem]
    assert result.conserved and result.records_read == 4


def test_jsonl_of_blank_lines_only_leaves_a_quarantine_record(tmp_path):
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n  \n\r\n\t\n")
    result = land_stripe_files([blank], tmp_path / "lake")
    assert _reasons(result) == {("blank.jsonl", 0): "file holds no events (only blank lines)"}
    assert (result.records_read, result.records_quarantined) == (1, 1) and result.conserved
    on_disk = duckdb.connect().execute(
        f"SELECT source_file, position FROM read_parquet('{tmp_path}/lake/quarantine/*.parquet')"
    )
    assert on_disk.fetchall() == [("blank.jsonl", 0)]


def test_numbers_out_of_range_are_quarantined_not_landed_with_a_null_amount(tmp_path, realdata):
    lines = [
        _charge_line(realdata, "evt_big", "1e400"),
        _charge_line(realdata, "evt_ok", "1999"),
        _charge_line(realdata, "evt_nan", "NaN"),
        _charge_line(realdata, "evt_digits", "9" * 400),
        _charge_line(realdata, "evt_neg", "-1E+0309"),
        _charge_line(realdata, "evt_text", '"looks like :1e999 but is text"'),
    ]
    src = write_jsonl(tmp_path / "charges.jsonl", lines)
    single = tmp_path / "evt_single.json"
    single.write_text(_charge_line(realdata, "evt_single", "1e400"))
    listed = tmp_path / "page.json"
    listed.write_text('{"object": "list", "data": [' + ", ".join(lines[:2]) + "]}")

    result = land_stripe_files([src, single, listed], tmp_path / "lake")

    assert _reasons(result) == {
        ("charges.jsonl", 1): "number out of range at line 1: $.data.object.amount",
        ("charges.jsonl", 3): "non-standard JSON number at line 3: $.data.object.amount",
        ("charges.jsonl", 4): "number out of range at line 4: $.data.object.amount",
        ("charges.jsonl", 5): "number out of range at line 5: $.data.object.amount",
        ("evt_single.json", 1): "number out of range at top level: $.data.object.amount",
        ("page.json", 1): "number out of range at item 1: $.data.object.amount",
    }
    rows = landed(tmp_path / "lake")
    assert sorted(r["event_id"] for r in rows) == ["evt_ok", "evt_text"]
    assert all(r["created"] is not None for r in rows)
    assert result.duplicates_skipped == 1 and result.conserved  # evt_ok again in page.json


def test_finite_numbers_beyond_int64_are_quarantined_not_landed_as_null_amounts(tmp_path, realdata):
    """Stripe amounts and timestamps are int64: a larger magnitude would cast to a null amount and
    still count as an order downstream."""
    values = {"evt_e30": "1e30", "evt_u64": "12345678901234567890", "evt_neg": "-1.5E+19",
              "evt_max": str(2**63 - 1), "evt_big_ok": "900719925474099", "evt_tiny": "1e-30"}  # fmt: skip
    src = write_jsonl(tmp_path / "charges.jsonl", [_charge_line(realdata, e, v) for e, v in values.items()])

    result = land_stripe_files([src], tmp_path / "lake")

    assert _reasons(result) == {
        ("charges.jsonl", n): f"number out of range at line {n}: $.data.object.amount" for n in (1, 2, 3)
    }
    assert sorted(r["event_id"] for r in landed(tmp_path / "lake")) == ["evt_big_ok", "evt_max", "evt_tiny"]
    assert result.conserved


def test_duplicate_keys_keep_the_first_value(tmp_path, realdata):
    customer = fixture(realdata, "customer")
    text = json.dumps(event("evt_first", "customer.created", 1700000000, customer))
    text = text.replace('{"id": "evt_first"', '{"id": "evt_first", "id": "evt_second"', 1)
    result = land_stripe_files([write_jsonl(tmp_path / "dup.jsonl", [text])], tmp_path / "lake")
    assert result.records_landed == 1
    assert [r["event_id"] for r in landed(tmp_path / "lake")] == ["evt_first"]


def test_landing_leaves_no_work_folder_and_keeps_it_private_while_it_works(tmp_path, monkeypatch):
    """Cleaned JSONL copies hold e-mails in clear: a private tagged folder, gone after landing."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "systmp"))
    (tmp_path / "systmp").mkdir()
    seen: list[tuple[Path, int]] = []
    real_clean = stripe_files.clean_jsonl

    def spying_clean(path, out, name):
        seen.append((out.parent, out.parent.stat().st_mode & 0o777))
        return real_clean(path, out, name)

    monkeypatch.setattr(stripe_files, "clean_jsonl", spying_clean)
    src = tmp_path / "in" / "events.jsonl"
    src.parent.mkdir()
    # a line of invalid UTF-8 makes DuckDB refuse the file, so it is cleaned through the work folder
    src.write_bytes(SAMPLE_EVENT.read_text().replace("\n", " ").encode() + b"\n\xff\xfe{}\n")
    result = land_stripe_files([src], tmp_path / "lake")

    assert result.batch_path is not None
    [(work, mode)] = seen
    assert mode == 0o700 and lake.TAGGED_TEMP.match(work.name), (work, oct(mode))
    assert work.parent == lake.private_temp_dir()
    assert not work.exists()
    assert not list((tmp_path / "systmp").glob("uds_stripe_*"))
