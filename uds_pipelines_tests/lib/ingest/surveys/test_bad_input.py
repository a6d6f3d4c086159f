"""Bad input becomes quarantine with a specific reason; nothing raises and nothing is dropped."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from uds_pipelines.lib.ingest.surveys import parse_survey_file

PLAIN_HEADER = "response_id,email,first_name,last_name,submitted_at,q1,q2,q3,q4\n"


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _only_reason(result) -> str:
    assert result.conserved
    assert len(result.quarantine) == 1 and result.quarantine[0].position == 0
    assert result.records.empty
    return result.quarantine[0].reason


def test_zero_byte_file(tmp_path: Path) -> None:
    assert _only_reason(parse_survey_file(_write(tmp_path, "empty.csv", b""))) == "empty file (0 bytes)"


def test_binary_garbage(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 40
    reason = _only_reason(parse_survey_file(_write(tmp_path, "garbage.csv", garbage)))
    assert reason.startswith("binary content")


def test_random_bytes_are_quarantined(tmp_path: Path) -> None:
    reason = _only_reason(parse_survey_file(_write(tmp_path, "random.csv", random.Random(7).randbytes(5000))))
    assert reason.startswith("binary content")


def test_fake_xlsx_and_legacy_xls(tmp_path: Path) -> None:
    fake = parse_survey_file(_write(tmp_path, "export.xlsx", b"Respondent ID,Collector ID\n1,2\n"))
    assert _only_reason(fake) == "not an xlsx workbook: file is not a ZIP archive"
    broken_zip = parse_survey_file(_write(tmp_path, "broken.xlsx", b"PK\x03\x04" + b"\x00" * 100))
    assert _only_reason(broken_zip).startswith("unreadable xlsx workbook")
    xls = parse_survey_file(_write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512))
    assert _only_reason(xls).startswith("unsupported legacy Excel .xls")


def test_undetectable_layout_without_leaking_personal_data(tmp_path: Path) -> None:
    path = _write(tmp_path, "list.csv", "jane.doe@example.com,+14155550123\nbob@example.org,+14155550199\n")
    reason = _only_reason(parse_survey_file(path))
    assert reason.startswith("unsupported survey layout: first row holds data values")
    assert "jane" not in reason and "4155550123" not in reason


def test_unknown_columns_layout_masks_what_could_be_names(tmp_path: Path) -> None:
    reason = _only_reason(parse_survey_file(_write(tmp_path, "x.csv", "colour,size\nred,L\n")))
    assert reason.startswith("unsupported survey layout: no column names a respondent id")
    assert "['c***', 's***']" in reason


def test_missing_file_is_quarantined_not_raised(tmp_path: Path) -> None:
    reason = _only_reason(parse_survey_file(tmp_path / "gone.csv"))
    assert reason.startswith("unreadable file")


def test_header_only_plain_file_is_empty_not_quarantined(tmp_path: Path) -> None:
    result = parse_survey_file(_write(tmp_path, "h.csv", PLAIN_HEADER))
    assert result.records.empty and result.quarantine == [] and result.records_read == 0
    assert result.info["layout"] == "plain"


def test_ragged_rows_quarantined_with_counts(tmp_path: Path) -> None:
    content = (
        PLAIN_HEADER
        + "r1,a@example.com,Ann,Lee,2024-01-02 10:00:00,1,2,3,4\n"
        + "r2,b@example.com,Bo,Ng,2024-01-02,1,2\n"
        + "r3,c@example.com,Cy,Oh,2024-01-02,1,2,3,4,5,6\n"
        + "r4,d@example.com,Di,Po,2024-01-02,1,2,3,4,,\n"
    )
    result = parse_survey_file(_write(tmp_path, "ragged.csv", content))
    assert result.conserved and result.records_read == 4
    assert result.records["response_id"].tolist() == ["r1", "r4"]  # trailing empty cells are harmless
    reasons = {q.position: q.reason for q in result.quarantine}
    assert reasons == {2: "ragged row: 7 cells, header has 9", 3: "ragged row: 11 cells, header has 9"}
    assert result.quarantine[0].raw == "r2,b@example.com,Bo,Ng,2024-01-02,1,2"
    assert result.info["rows_with_trailing_empty_cells"] == 1


def test_duplicate_column_names_kept_with_suffix(tmp_path: Path) -> None:
    content = "response_id,email,Rating,Rating,Rating\nr1,a@example.com,1,2,3\n"
    result = parse_survey_file(_write(tmp_path, "dup.csv", content))
    assert result.info["duplicate_columns"] == ["Rating"]
    answers = result.extra["answers"]
    assert answers["question_id"].tolist() == ["Rating", "Rating__2", "Rating__3"]
    assert answers["question_text"].tolist() == ["Rating"] * 3
    assert answers["answer"].tolist() == ["1", "2", "3"]


def test_formulas_kept_verbatim(tmp_path: Path) -> None:
    content = 'response_id,email,Website\nr1,a@example.com,"=HYPERLINK(""http://x"",""y"")"\nr2,,=1+1\n'
    result = parse_survey_file(_write(tmp_path, "f.csv", content))
    assert result.extra["answers"]["answer"].tolist() == ['=HYPERLINK("http://x","y")', "=1+1"]


def test_missing_and_duplicate_response_ids(tmp_path: Path) -> None:
    content = "response_id,email,q\nr1,a@example.com,x\n,b@example.com,y\nr1,c@example.com,z\n\n"
    result = parse_survey_file(_write(tmp_path, "ids.csv", content))
    assert result.conserved and result.records_read == 3
    assert result.records["response_id"].tolist() == ["r1"]
    reasons = {q.position: q.reason for q in result.quarantine}
    assert reasons[2].startswith("missing response id")
    assert reasons[3] == "duplicate response id r1 (first at row 1)"
    assert result.info["blank_rows_skipped"] == 1


def test_qualtrics_row_without_response_id(realdata: Path, tmp_path: Path) -> None:
    lines = (realdata / "surveys" / "qualtrics_sample_3header.csv").read_text(encoding="utf-8").splitlines()
    lines.append(lines[3].replace("R_2YPOQ602ER1jkf1", ""))
    result = parse_survey_file(_write(tmp_path, "q.csv", "\n".join(lines) + "\n"))
    assert len(result.records) == 1
    assert [(q.position, q.reason[:19]) for q in result.quarantine] == [(2, "missing response id")]


def test_unparseable_timestamp_is_null_and_counted(tmp_path: Path) -> None:
    content = "response_id,submitted_at,q\nr1,yesterday-ish,x\nr2,2024-03-01T10:00:00+02:00,y\n"
    result = parse_survey_file(_write(tmp_path, "t.csv", content))
    stamps = result.records["submitted_at"].tolist()
    assert stamps[0] is pd.NaT
    assert str(stamps[1]) == "2024-03-01 08:00:00+00:00"
    assert result.info["submitted_at"]["unparseable"] == 1
    assert result.quarantine == []


def test_rows_missing_only_unnamed_trailing_columns_are_padded(tmp_path: Path) -> None:
    content = "response_id,email,q1,,\nr1,a@example.com,x\nr2,b@example.com\n"
    result = parse_survey_file(_write(tmp_path, "pad.csv", content))
    assert result.records["response_id"].tolist() == ["r1"]
    assert result.info["rows_padded"] == 1
    assert [q.reason for q in result.quarantine] == ["ragged row: 2 cells, header has 5"]


@pytest.mark.parametrize(
    "content",
    [
        b"   \n\n",
        b'response_id,email\n"r1,unterminated@example.com\n',
        b"ResponseId,StartDate\n",
        b"V1,V2,V3\n",
        b"#,Network ID\n,\n",
        b"\xff\xfe",
        b"response_id,email\r\nr1," + b"x" * 200_000 + b"\r\n",
        b"Timestamp\n2024-01-01\n",
    ],
)
def test_odd_inputs_never_raise_and_are_conserved(tmp_path: Path, content: bytes) -> None:
    result = parse_survey_file(_write(tmp_path, "odd.csv", content))
    assert result.conserved
    assert all(q.reason for q in result.quarantine)
    assert list(result.extra["answers"].columns) == ["response_id", "question_id", "question_text", "answer"]


def test_whitespace_only_file_has_no_header(tmp_path: Path) -> None:
    reason = _only_reason(parse_survey_file(_write(tmp_path, "ws.csv", "  \n\n")))
    assert reason == "unsupported survey layout: no header row"


def test_very_long_free_text_answer_is_kept(tmp_path: Path) -> None:
    essay = "word " * 60_000  # 300 KB, beyond csv's default field limit
    result = parse_survey_file(
        _write(tmp_path, "long.csv", f'response_id,email,Tell us more\nr1,,"{essay}"\n')
    )
    assert result.quarantine == []
    assert result.extra["answers"]["answer"].tolist() == [essay]
