"""Every real export in realdata/surveys parses: layout, response count, answers, question texts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from uds_pipelines.lib import catalog
from uds_pipelines.lib.ingest.surveys import parse_survey_file

# file -> (layout, responses, header rows)
EXPECTED = {
    "qualtrics_insights_many_question_types_3header.csv": ("qualtrics_3row", 5, 3),
    "qualtrics_insights_no_basis_3header.csv": ("qualtrics_3row", 15, 3),
    "qualtrics_insights_text_entry_3header.csv": ("qualtrics_3row", 15, 3),
    "qualtrics_legacy_no_basis_2header.csv": ("qualtrics_legacy", 15, 2),
    "qualtrics_sample_3header.csv": ("qualtrics_3row", 1, 3),
    "qualtrics_sample_legacy_2header.csv": ("qualtrics_legacy", 1, 2),
    "surveymonkey_header_rows_only_ggwash.csv": ("surveymonkey", 0, 2),
    "typeform_export_snippet_new_format.csv": ("typeform", 1, 1),
    "typeform_export_snippet_old_format.csv": ("typeform", 1, 1),
}


def _header_texts(path: Path, row: int) -> set[str]:
    text = path.read_bytes().decode("utf-8-sig")
    return {c.strip() for c in list(csv.reader(io.StringIO(text)))[row] if c.strip()}


def test_every_realdata_file_is_covered(realdata: Path) -> None:
    assert {p.name for p in (realdata / "surveys").glob("*.csv")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_realdata_file_parses(realdata: Path, name: str) -> None:
    layout, responses, header_rows = EXPECTED[name]
    path = realdata / "surveys" / name
    result = parse_survey_file(path)
    assert result.quarantine == []
    assert result.conserved and result.records_read == responses
    assert result.info["layout"] == layout
    assert result.info["header_rows"] == header_rows
    assert list(result.records.columns) == list(catalog.table("landed_survey_responses").columns)
    assert len(result.records) == responses
    assert (result.records["layout"] == layout).all()
    assert result.records["response_id"].is_unique
    assert result.records["position"].tolist() == list(range(1, responses + 1))
    answers = result.extra["answers"]
    assert list(answers.columns) == list(catalog.table("landed_survey_answers").columns)
    if responses:
        assert len(answers) > 0
        assert set(answers["response_id"]) <= set(result.records["response_id"])
        assert str(result.records["submitted_at"].dtype) == "datetime64[ns, UTC]"
        assert result.records["submitted_at"].notna().all()
        # Question texts are carried over from the export's own header row.
        text_row = 0 if header_rows == 1 else 1
        assert set(answers["question_text"]) - {""} <= _header_texts(path, text_row)


def test_qualtrics_ids_and_timestamps(realdata: Path) -> None:
    records = parse_survey_file(realdata / "surveys" / "qualtrics_sample_3header.csv").records
    assert records.loc[0, "response_id"] == "R_2YPOQ602ER1jkf1"
    # RecordedDate, not StartDate
    assert records.loc[0, "submitted_at"] == pd.Timestamp("2017-07-18 08:28:48", tz="UTC")


def test_python_dict_import_ids_are_recognised(realdata: Path) -> None:
    result = parse_survey_file(realdata / "surveys" / "qualtrics_insights_many_question_types_3header.csv")
    assert result.info["import_ids"] == "python-dict"
    answers = result.extra["answers"]
    # The ImportId row is a header, never a response.
    assert not answers["answer"].str.contains("ImportId").any()
    # Repeated column ids in this export are kept, each under its own suffixed id.
    assert "Q50#1_wedges_23234_TEXT" in result.info["duplicate_columns"]


def test_typeform_token_is_the_response_id(realdata: Path) -> None:
    result = parse_survey_file(realdata / "surveys" / "typeform_export_snippet_new_format.csv")
    row = result.records.iloc[0]
    assert row["response_id"] == "068127e3d5e9ca5f5fac8e04fa692a9e"
    assert row["submitted_at"] == pd.Timestamp("2018-04-03 09:05:40", tz="UTC")
    answers = result.extra["answers"].set_index("question_id")["answer"]
    assert answers["Notes"] == "testing form"
    assert "Network ID" not in answers.index  # metadata, not an answer
    # The mojibake is the export's own and is kept as is.
    assert "lÃ¥r" in answers["Muscles"]


def test_surveymonkey_header_only_file_is_an_empty_result(realdata: Path) -> None:
    result = parse_survey_file(realdata / "surveys" / "surveymonkey_header_rows_only_ggwash.csv")
    assert result.records.empty and result.quarantine == [] and result.records_read == 0
    assert result.info["columns"] == 41
