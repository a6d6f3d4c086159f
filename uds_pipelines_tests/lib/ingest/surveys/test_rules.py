"""NPS, consent and timestamp rules, and Qualtrics header variants, one rule at a time."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from uds_pipelines.lib.ingest.surveys import parse_survey_file
from uds_pipelines.lib.ingest.surveys.consent import consent_answer, consent_purpose
from uds_pipelines.lib.ingest.surveys.model import Question
from uds_pipelines.lib.ingest.surveys.nps import find_nps_question, nps_value
from uds_pipelines.lib.ingest.surveys.timestamps import parse_column, parse_timestamp


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("10", 10),
        ("0", 0),
        ("7.0", 7),
        ("10 - Extremely likely", 10),
        ("0 - Not at all likely", 0),
        ("11", None),
        ("-1", None),
        ("very", None),
        ("", None),
        (None, None),
        ("5 stars out of 10", None),
    ],
)
def test_nps_value(answer: str | None, score: int | None) -> None:
    assert nps_value(answer) == score


def test_nps_question_needs_wording_and_scores() -> None:
    questions = [
        Question(0, "Q1", "How likely is it that you would recommend us?"),
        Question(1, "Q1_NPS_GROUP", "How likely is it that you would recommend us?"),
        Question(2, "Q2", "Which product would you recommend to a friend?"),
    ]
    assert find_nps_question(questions, [["9", "3", "Widget"]]).question_id == "Q1"
    # Words alone are not enough when the answers are not scores.
    assert find_nps_question(questions[2:], [["", "", "Widget"], ["", "", "Gadget"]]) is None
    assert find_nps_question(questions[1:2], [["", "3", ""]]) is None


@pytest.mark.parametrize(
    ("text", "purpose"),
    [
        ("May we email you about new products?", "email_marketing"),
        ("Subscribe to our newsletter", "email_marketing"),
        ("I consent to receive marketing emails", "email_marketing"),
        ("Opt in to SMS offers", "sms_marketing"),
        ("Can we text you when it ships?", "sms_marketing"),
        ("I consent to personalised ads", "ad_targeting"),
        ("I consent to take part in this research study", None),
        ("How often do you read email?", None),
        ("Please upload a photo that we have your permission to use in emails", None),
    ],
)
def test_consent_purpose(text: str, purpose: str | None) -> None:
    assert consent_purpose(text) == purpose


@pytest.mark.parametrize(
    ("answer", "option", "granted"),
    [
        ("Yes", None, True),
        ("no", None, False),
        ("TRUE", None, True),
        ("False", None, False),
        ("checked", None, True),
        ("Yes, please!", None, True),
        ("No thanks", None, False),
        ("Email", "Email", True),
        ("", "Email", None),
        ("maybe", None, None),
    ],
)
def test_consent_answer(answer: str, option: str | None, granted: bool | None) -> None:
    assert consent_answer(answer, option) is granted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024/01/31 9:15:02 AM GMT+1", "2024-01-31 08:15:02"),
        ("1/31/2024 9:15:02", "2024-01-31 09:15:02"),
        ("11/05/2021 10:11:21 AM", "2021-11-05 10:11:21"),
        ("11/05/2021 12:00:00 AM", "2021-11-05 00:00:00"),
        ("2018-04-03 09:05:40", "2018-04-03 09:05:40"),
        ("2024-03-01T10:00:00.5-05:00", "2024-03-01 15:00:00.500000"),
        ("2024-03-01T10:00:00Z", "2024-03-01 10:00:00"),
        ("2024-03-01 10:00 UTC+05:30", "2024-03-01 04:30:00"),
    ],
)
def test_parse_timestamp(text: str, expected: str) -> None:
    assert parse_timestamp(text) == pd.Timestamp(expected, tz="UTC")


@pytest.mark.parametrize(
    "text", ["2024-02-30", "13:00 PM 1/1/2024", "1/1/2024 13:00 PM", "soon", "2024-01-01 GMT+99"]
)
def test_parse_timestamp_rejects(text: str) -> None:
    assert parse_timestamp(text) is None


def test_dotted_dates_are_day_first() -> None:
    stamps, order = parse_column(["01.02.2024 09:15", ""])
    assert order == "dmy" and stamps[0] == pd.Timestamp("2024-02-01 09:15", tz="UTC") and stamps[1] is None


def _qualtrics(tmp_path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path = tmp_path / "q.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_qualtrics_without_import_id_row(tmp_path: Path) -> None:
    ids = ["StartDate", "EndDate", "ResponseId", "Q1"]
    texts = ["Start Date", "End Date", "Response ID", "Would you recommend us to a friend?"]
    data = ["2024-01-01 08:00:00", "2024-01-01 09:00:00", "R_abc", "9"]
    two = parse_survey_file(_qualtrics(tmp_path, [ids, texts, data]))
    assert (two.info["layout"], two.info["header_rows"]) == ("qualtrics_3row", 2)
    assert two.records["nps"].tolist() == [9]
    assert two.extra["answers"]["question_text"].tolist() == ["Would you recommend us to a friend?"]
    one = parse_survey_file(_qualtrics(tmp_path, [ids, data]))
    assert (one.info["layout"], one.info["header_rows"]) == ("qualtrics_3row", 1)
    assert one.records["response_id"].tolist() == ["R_abc"]
