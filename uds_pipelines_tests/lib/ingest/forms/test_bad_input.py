"""Bad form files never raise: each unusable record is quarantined with a specific reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uds_pipelines.lib.ingest.forms import parse_form_file

GOOD = {"email": "ann@example.com", "first_name": "Ann", "submission_id": "s-1"}


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_empty_file_is_one_quarantine_record(tmp_path: Path) -> None:
    for name in ("empty.json", "empty.jsonl", "empty.csv"):
        result = parse_form_file(_write(tmp_path, name, b""))
        assert [(q.position, q.reason) for q in result.quarantine] == [(0, "empty file")]
        assert result.records.empty and result.records_read == 1 and result.conserved
        assert result.quarantine[0].source == "forms"


def test_truncated_json_reports_line_and_message(tmp_path: Path) -> None:
    text = '{\n  "email": "ann@example.com",\n  "first_name": "Ann"\n  "last_name": "Lee"\n}'
    result = parse_form_file(_write(tmp_path, "bad.json", text))
    assert len(result.quarantine) == 1
    record = result.quarantine[0]
    assert record.position == 0
    assert record.reason == "invalid JSON at line 4: Expecting ',' delimiter"
    assert record.raw == text
    assert result.records_read == 1 and result.conserved


def test_invalid_utf8_line_in_jsonl_does_not_stop_the_rest(tmp_path: Path) -> None:
    line1 = json.dumps(GOOD).encode() + b"\n"
    bad = b'{"email": "b\xffb@example.com"}\n'
    line3 = json.dumps({"email": "cat@example.com", "submission_id": "s-3"}).encode() + b"\n"
    result = parse_form_file(_write(tmp_path, "mixed.jsonl", line1 + bad + line3))
    assert list(result.records["submission_id"]) == ["s-1", "s-3"]
    assert list(result.records["position"]) == [1, 3]
    [record] = result.quarantine
    assert record.position == 2
    offset = len(line1) + bad.index(b"\xff")
    assert record.reason == f"invalid UTF-8 at byte {offset}"
    assert "\\xff" in record.raw
    assert result.records_read == 3 and result.conserved


def test_invalid_utf8_in_json_file(tmp_path: Path) -> None:
    result = parse_form_file(_write(tmp_path, "bad.json", b'{"email": "\xe9"}'))
    assert [(q.position, q.reason) for q in result.quarantine] == [(0, "invalid UTF-8 at byte 11")]
    assert result.conserved


def test_array_on_a_jsonl_line_and_bad_json_line(tmp_path: Path) -> None:
    text = "\n".join([json.dumps(GOOD), "[1, 2]", '{"email": "x@example.com",', "", '"just a string"']) + "\n"
    result = parse_form_file(_write(tmp_path, "lines.jsonl", text))
    reasons = {q.position: q.reason for q in result.quarantine}
    assert reasons == {
        2: "expected a JSON object on line 2, got array",
        3: "invalid JSON at line 3: Expecting property name enclosed in double quotes",
        5: "expected a JSON object on line 5, got string",
    }
    assert len(result.records) == 1 and result.records_read == 4 and result.conserved


def test_json_list_with_non_objects(tmp_path: Path) -> None:
    payload = [GOOD, 42, {"email": "b@example.com"}, ["x"]]
    result = parse_form_file(_write(tmp_path, "list.json", json.dumps(payload)))
    assert list(result.records["position"]) == [1, 3]
    assert [(q.position, q.reason) for q in result.quarantine] == [
        (2, "expected a JSON object at index 2, got number"),
        (4, "expected a JSON object at index 4, got array"),
    ]
    assert result.records_read == 4 and result.conserved


def test_json_scalar_document(tmp_path: Path) -> None:
    result = parse_form_file(_write(tmp_path, "n.json", "42"))
    assert [q.reason for q in result.quarantine] == ["expected a JSON object or list, got number"]
    assert result.conserved


def test_unrecognized_payload_lists_its_keys(tmp_path: Path) -> None:
    text = json.dumps({"zeta": 1, "alpha": "x", "beta": {"nested": True}})
    result = parse_form_file(_write(tmp_path, "odd.json", text))
    assert [q.reason for q in result.quarantine] == ["unrecognized form payload: keys alpha, beta, zeta"]
    assert result.quarantine[0].raw == text
    assert result.records.empty and result.conserved


def test_ragged_csv_rows_and_formulas_kept_verbatim(tmp_path: Path) -> None:
    text = (
        "email,first_name,website\n"
        'ann@example.com,Ann,"=HYPERLINK(""http://evil.example"",""click"")"\n'
        "bob@example.com,Bob,x,EXTRA\n"
        "carl@example.com\n"
        ",,\n"
        "=1+2,Dee,\n"
    )
    result = parse_form_file(_write(tmp_path, "rows.csv", text))
    reasons = {q.position: q.reason for q in result.quarantine}
    assert reasons == {
        2: "ragged row: 4 fields, header has 3",
        3: "ragged row: 1 fields, header has 3",
        4: "empty row",
    }
    assert list(result.records["position"]) == [1, 5]
    first = result.records.iloc[0]
    assert json.loads(first["fields_json"])["website"] == '=HYPERLINK("http://evil.example","click")'
    assert result.records.iloc[1]["email"] == "=1+2"
    assert result.records_read == 5 and result.conserved


def test_csv_without_any_known_column_is_quarantined_whole(tmp_path: Path) -> None:
    text = "colour,size\nred,XL\nblue,M\n"
    result = parse_form_file(_write(tmp_path, "odd.csv", text))
    assert [(q.position, q.reason) for q in result.quarantine] == [
        (0, "unrecognized form CSV header: columns colour, size")
    ]
    assert result.quarantine[0].raw == text
    assert result.records_read == 1 and result.conserved


def test_blank_lines_only_jsonl(tmp_path: Path) -> None:
    result = parse_form_file(_write(tmp_path, "blank.jsonl", "\n\n  \n"))
    assert [q.reason for q in result.quarantine] == ["empty file"]
    assert result.conserved


def test_missing_file_does_not_raise(tmp_path: Path) -> None:
    result = parse_form_file(tmp_path / "gone.json")
    assert result.quarantine[0].reason == "unreadable file: FileNotFoundError"
    assert result.conserved


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\x02\xff\xfe",
        b"{" * 5000,
        b'[{"email": 1e999}]',
        b'{"fields": "nope", "context": 3}',
        b"\xef\xbb\xbf",
    ],
)
def test_garbage_never_raises_and_is_conserved(tmp_path: Path, data: bytes) -> None:
    for suffix in (".json", ".jsonl", ".csv"):
        result = parse_form_file(_write(tmp_path, f"g{suffix}", data))
        assert result.conserved
        assert result.records_read >= 1


def test_reasons_do_not_leak_personal_data(tmp_path: Path) -> None:
    text = json.dumps({"jane.doe@example.com": "x", "+44 20 7946 0958": "y"})
    result = parse_form_file(_write(tmp_path, "keys.json", text))
    [record] = result.quarantine
    assert record.reason.startswith("unrecognized form payload: keys ")
    assert "jane.doe@example.com" not in record.reason and "7946" not in record.reason
