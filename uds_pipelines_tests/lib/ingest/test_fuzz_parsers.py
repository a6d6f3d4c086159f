"""Fuzz: hostile form, survey and privacy files land or are quarantined; nothing raises or vanishes.

Each example is landed the way the landing assets do it (`land_files`: parse, write Parquet, ledger
row) and then judged by `conservation_violations`, the query behind the `records_conserved` check.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from uds_pipelines.lib.ingest.conservation import conservation_violations
from uds_pipelines.lib.ingest.forms import parse_form_file
from uds_pipelines.lib.ingest.landing import SourceSpec, land_files
from uds_pipelines.lib.ingest.stage import FORMS, PRIVACY, SURVEYS
from uds_pipelines_tests.lib.ingest.fuzz_inputs import FUZZ, LANDING_FUZZ, SAMPLES, hostile_files, seeds

FORM_SEEDS = {suffix: seeds(f"forms/*.{suffix}") for suffix in ("json", "jsonl", "csv")}
SURVEY_SEEDS = seeds("surveys/*.csv")
PRIVACY_SEEDS = seeds("privacy/*.jsonl")


def _landing_lines(sample: Path) -> list[bytes]:
    """The lines of a real sample that land on their own (samples hold deliberately bad lines too)."""
    landed = set(parse_form_file(sample).records["position"])
    lines = sample.read_bytes().splitlines()
    return [line for number, line in enumerate(lines, start=1) if number in landed]


GOOD_FORM_LINES = _landing_lines(SAMPLES / "forms" / "hubspot_001.jsonl")


def _land_and_check(spec: SourceSpec, files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inbox, lake_dir = Path(tmp) / "inbox" / spec.source, Path(tmp) / "lake"
        inbox.mkdir(parents=True)
        for name, data in files.items():
            (inbox / name).write_bytes(data)
        # Parsed alone first: the parser's own figures must add up before landing touches them.
        for name in files:
            result = spec.parse(inbox / name, source_file=name)
            assert result.conserved, (name, result.records_read, len(result.records), result.quarantine)
            assert all(q.reason and "parser error" not in q.reason for q in result.quarantine)
        summary = land_files(spec, sorted(inbox.iterdir()), lake_dir)
        assert sorted(f["file_name"] for f in summary.files) == sorted(files)
        assert summary.records_read == summary.records_landed + summary.records_quarantined
        assert list(inbox.iterdir()) == []  # landed files leave the inbox...
        violations = conservation_violations(lake_dir, spec.source, spec.records_table)
        assert violations.empty, violations.to_dict("records")  # ...and every record is accounted for


@LANDING_FUZZ
@given(
    as_json=hostile_files(FORM_SEEDS["json"]),
    as_jsonl=hostile_files(FORM_SEEDS["jsonl"]),
    as_csv=hostile_files(FORM_SEEDS["csv"] + FORM_SEEDS["jsonl"]),
)
def test_hostile_form_files(as_json: bytes, as_jsonl: bytes, as_csv: bytes) -> None:
    _land_and_check(FORMS, {"a.json": as_json, "b.jsonl": as_jsonl, "c.csv": as_csv})


@LANDING_FUZZ
@given(export=hostile_files(SURVEY_SEEDS))
def test_hostile_survey_exports(export: bytes) -> None:
    _land_and_check(SURVEYS, {"export.csv": export})


@LANDING_FUZZ
@given(requests=hostile_files(PRIVACY_SEEDS), as_json=hostile_files(PRIVACY_SEEDS))
def test_hostile_privacy_request_files(requests: bytes, as_json: bytes) -> None:
    _land_and_check(PRIVACY, {"requests.jsonl": requests, "requests.json": as_json})


@FUZZ
@given(lines=st.lists(hostile_files(FORM_SEEDS["jsonl"]), min_size=2, max_size=4))
def test_one_bad_line_never_costs_the_good_lines_beside_it(lines: list[bytes]) -> None:
    good = GOOD_FORM_LINES
    mixed = b"\n".join([good[0], *(line.replace(b"\n", b" ") for line in lines), good[1]]) + b"\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mixed.jsonl"
        path.write_bytes(mixed)
        result = parse_form_file(path)
        assert result.conserved
        positions = set(result.records["position"])
        assert {1, len(lines) + 2} <= positions  # the first and last (good) lines still land
