"""Hostile form and privacy files: one bad line is quarantined alone, the good lines beside it land."""

from __future__ import annotations

import json
from pathlib import Path

from uds_pipelines.lib.ingest.forms import parse_form_file
from uds_pipelines.lib.ingest.privacy_requests import parse_privacy_file

SAMPLES = Path(__file__).parents[4] / "data" / "samples" / "inbox"


def _sample_lines(name: str, count: int) -> list[str]:
    """The first `count` well-formed lines of a sample (the samples hold deliberately broken ones too)."""
    lines = []
    for line in (SAMPLES / name).read_text(encoding="utf-8").splitlines():
        try:
            json.loads(line)
        except ValueError:
            continue
        lines.append(line)
    return lines[:count]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_deeply_nested_line_is_quarantined_alone_and_the_good_lines_land(tmp_path):
    good = _sample_lines("forms/hubspot_001.jsonl", 2)
    path = _write(tmp_path / "hubspot.jsonl", [good[0], "[" * 100_000, good[1], '{"a": ' * 50_000])
    result = parse_form_file(path)
    assert len(result.records) == 2 and list(result.records["position"]) == [1, 3]
    assert [(q.position, q.reason) for q in result.quarantine] == [
        (2, "JSON nested too deeply to read at line 2"),
        (4, "JSON nested too deeply to read at line 4"),
    ]
    assert result.records_read == 4 and result.conserved


def test_deeply_nested_json_document_is_one_specific_quarantine_record(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"email": "ann@example.com", "x": ' + "[" * 100_000)
    result = parse_form_file(path)
    assert [(q.position, q.reason) for q in result.quarantine] == [(0, "JSON nested too deeply to read")]
    assert result.records_read == 1 and result.conserved


def test_privacy_requests_share_the_guarded_reader(tmp_path):
    good = _sample_lines("privacy/requests_001.jsonl", 3)
    path = _write(tmp_path / "requests.jsonl", [good[0], "[" * 100_000, good[2]])
    result = parse_privacy_file(path)
    assert list(result.records["position"]) == [1, 3]
    assert [(q.position, q.reason) for q in result.quarantine] == [
        (2, "JSON nested too deeply to read at line 2")
    ]
    assert result.conserved


def test_numbers_out_of_range_are_quarantined_with_their_path(tmp_path):
    good = json.loads(_sample_lines("forms/flat_001.jsonl", 1)[0])
    big = json.dumps(good | {"submission_id": "big", "score": 424242}).replace("424242", "1e400")
    nan = json.dumps(good | {"submission_id": "nan", "answers": {"q1": float("nan")}})
    fine = json.dumps(good | {"submission_id": "fine", "score": 1e300})
    result = parse_form_file(_write(tmp_path / "flat.jsonl", [big, nan, fine]))
    assert list(result.records["submission_id"]) == ["fine"]
    assert [(q.position, q.reason) for q in result.quarantine] == [
        (1, "number out of range at line 1: $.score"),
        (2, "non-standard JSON number at line 2: $.answers.q1"),
    ]
    assert "Infinity" not in "".join(result.records["fields_json"].dropna())


def test_duplicate_keys_keep_the_first_value_as_duckdb_does(tmp_path):
    good = json.loads(_sample_lines("forms/flat_001.jsonl", 1)[0])
    text = json.dumps(good | {"email": "first@example.com"})
    text = text.replace(
        '"email": "first@example.com"', '"email": "first@example.com", "email": "second@example.com"'
    )
    for name in ("dup.jsonl", "dup.json"):
        result = parse_form_file(_write(tmp_path / name, [text]))
        assert list(result.records["email"]) == ["first@example.com"], name


def test_unpaired_surrogate_is_quarantined_not_a_landing_crash(tmp_path):
    good = _sample_lines("forms/flat_001.jsonl", 2)
    bad = json.dumps({"email": "x@example.com", "first_name": "\ud800"})  # ensure_ascii writes \\ud800
    result = parse_form_file(_write(tmp_path / "s.jsonl", [good[0], bad, good[1]]))
    assert list(result.records["position"]) == [1, 3]
    assert [(q.position, q.reason) for q in result.quarantine] == [
        (2, "invalid JSON at line 2: unpaired surrogate in a string")
    ]
