"""Re-encoded real exports (UTF-16 "Unicode text", BOM, cp1252) and .xlsx workbooks parse the same."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import openpyxl
import pandas as pd

from uds_pipelines.lib.ingest.surveys import parse_survey_file

NO_BASIS = "qualtrics_insights_no_basis_3header.csv"


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _same_content(a, b) -> None:
    assert a.info["layout"] == b.info["layout"]
    pd.testing.assert_frame_equal(
        a.records.drop(columns=["source_file"]), b.records.drop(columns=["source_file"])
    )
    pd.testing.assert_frame_equal(a.extra["answers"], b.extra["answers"])


def test_utf16_tab_separated_unicode_text(realdata: Path, tmp_path: Path) -> None:
    """Excel's "Unicode text": UTF-16 LE with BOM, TAB-separated, CRLF."""
    original = parse_survey_file(realdata / "surveys" / NO_BASIS)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t", lineterminator="\r\n").writerows(
        _rows(realdata / "surveys" / NO_BASIS)
    )
    target = tmp_path / "unicode.txt"
    target.write_bytes(codecs.BOM_UTF16_LE + buffer.getvalue().encode("utf-16-le"))
    result = parse_survey_file(target)
    assert result.info["encoding_decision"] == "utf-16 BOM"
    assert result.info["delimiter"] == "\t"
    _same_content(original, result)


def test_utf8_bom_added(realdata: Path, tmp_path: Path) -> None:
    source = realdata / "surveys" / "qualtrics_sample_3header.csv"
    target = tmp_path / "bom.csv"
    target.write_bytes(codecs.BOM_UTF8 + source.read_bytes())
    result = parse_survey_file(target)
    assert result.info["encoding_decision"] == "utf-8 BOM"
    assert result.info["layout"] == "qualtrics_3row"  # the BOM does not hide the first column id
    _same_content(parse_survey_file(source), result)


def test_cp1252_export_keeps_accented_question_text(realdata: Path, tmp_path: Path) -> None:
    source = realdata / "surveys" / "qualtrics_sample_3header.csv"
    target = tmp_path / "latin.csv"
    target.write_bytes(source.read_bytes().decode("utf-8").encode("cp1252"))
    result = parse_survey_file(target)
    assert result.info["encoding"] == "cp1252"
    assert "invalid utf-8" in result.info["encoding_decision"]
    _same_content(parse_survey_file(source), result)


def test_semicolon_delimited(tmp_path: Path) -> None:
    target = tmp_path / "semi.csv"
    target.write_text(
        "response_id;email;How was it, overall?\nr1;a@example.com;good, thanks\n", encoding="utf-8"
    )
    result = parse_survey_file(target)
    assert result.info["delimiter"] == ";"
    assert result.records["response_id"].tolist() == ["r1"]
    assert result.extra["answers"]["answer"].tolist() == ["good, thanks"]


def test_xlsx_first_sheet_same_detection(realdata: Path, tmp_path: Path) -> None:
    rows = _rows(realdata / "surveys" / NO_BASIS)
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.create_sheet("Notes").append(["not", "read"])
    target = tmp_path / "export.xlsx"
    book.save(target)
    result = parse_survey_file(target)
    assert result.info["encoding"] == "xlsx"
    _same_content(parse_survey_file(realdata / "surveys" / NO_BASIS), result)


def test_xlsx_values_formulas_and_dates(tmp_path: Path) -> None:
    from datetime import datetime

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Timestamp", "Email Address", "Link", "Score out of 10"])
    sheet.append([datetime(2024, 1, 31, 9, 15, 2), "a@example.com", '=HYPERLINK("http://x","y")', 7])
    target = tmp_path / "google.xlsx"
    book.save(target)
    result = parse_survey_file(target)
    assert result.info["layout"] == "google_forms"
    assert result.records.loc[0, "submitted_at"] == pd.Timestamp("2024-01-31 09:15:02", tz="UTC")
    answers = dict(
        zip(result.extra["answers"]["question_id"], result.extra["answers"]["answer"], strict=True)
    )
    assert answers == {"Link": '=HYPERLINK("http://x","y")', "Score out of 10": "7"}
