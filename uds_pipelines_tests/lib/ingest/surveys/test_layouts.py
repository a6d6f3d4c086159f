"""SurveyMonkey with responses, Google Forms, Typeform hidden fields and plain CSVs: identity and answers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from uds_pipelines.lib.ingest.surveys import parse_survey_file
from uds_pipelines.lib.ingest.surveys.responses import stable_response_id


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _surveymonkey_with_rows(realdata: Path, tmp_path: Path) -> Path:
    """The real GGWash header rows with two responses appended."""
    header = list(
        csv.reader(
            io.StringIO((realdata / "surveys" / "surveymonkey_header_rows_only_ggwash.csv").read_text())
        )
    )
    width = len(header[0])
    first = ["114000001", "4000", "11/04/2021 10:01:02 AM", "11/05/2021 10:11:21 AM", "", "", "", "", ""]
    first += ["Ann Lee", "ann@example.com", "@ann", "N/A", "ANC 1A", "1A01"] + [""] * (width - 15)
    first[18] = "3"
    first[-1] = "Because I care."
    second = ["114000002", "4000", "11/06/2021 1:00:00 PM", "11/06/2021 1:05:00 PM", "", "bo@example.com"]
    second += ["Bo", "Ng", "", "Bo Ng", "other@example.com"] + [""] * (width - 11)
    second[26] = "Yes"
    path = tmp_path / "sm.csv"
    path.write_text(_csv(header + [first, second]), encoding="utf-8")
    return path


def test_surveymonkey_responses(realdata: Path, tmp_path: Path) -> None:
    result = parse_survey_file(_surveymonkey_with_rows(realdata, tmp_path))
    assert result.info["layout"] == "surveymonkey" and result.quarantine == []
    records = result.records.set_index("response_id")
    assert records.loc["114000001", "submitted_at"] == pd.Timestamp("2021-11-05 10:11:21", tz="UTC")
    assert records.loc["114000002", "submitted_at"] == pd.Timestamp("2021-11-06 13:05:00", tz="UTC")
    # Email Address metadata is empty for the first: the Contact information sub-columns fill in.
    assert records.loc["114000001", ["respondent_email", "first_name", "last_name"]].tolist() == [
        "ann@example.com",
        "Ann",
        "Lee",
    ]
    # The account's own metadata columns win over the contact question.
    assert records.loc["114000002", ["respondent_email", "first_name", "last_name"]].tolist() == [
        "bo@example.com",
        "Bo",
        "Ng",
    ]
    answers = result.extra["answers"]
    mine = answers[answers["response_id"] == "114000001"].set_index("question_id")["answer"]
    assert mine["Contact information - Campaign-related social media accounts"] == "@ann"
    assert mine["Select the SMD in which you are running:"] == "1A01"
    ranked = [
        q
        for q in mine.index
        if q.endswith(" - More inclusionary zoning units than are required by District law")
    ]
    assert len(ranked) == 1 and mine[ranked[0]] == "3"
    assert (
        mine["Why do you think you are the right person to serve as an ANC commissioner for your SMD?"]
        == "Because I care."
    )
    assert "ann@example.com" not in answers["answer"].tolist()  # identity columns are not answers


def test_google_forms(tmp_path: Path) -> None:
    content = _csv(
        [
            [
                "Timestamp",
                "Email Address",
                "How likely are you to recommend us to a friend?",
                "May we email you news?",
            ],
            ["2024/01/31 9:15:02 AM GMT+1", "ann@example.com", "10 - Extremely likely", "Yes"],
            ["2024/02/01 5:00:00 PM GMT+1", "bo@example.com", "0 - Not at all likely", "No"],
            ["2024/02/02 8:00:00 AM GMT+1", "cy@example.com", "eleven", ""],
        ]
    )
    path = tmp_path / "google.csv"
    path.write_text(content, encoding="utf-8")
    result = parse_survey_file(path)
    assert result.info["layout"] == "google_forms" and result.conserved
    records = result.records
    assert records["submitted_at"].tolist() == [
        pd.Timestamp("2024-01-31 08:15:02", tz="UTC"),
        pd.Timestamp("2024-02-01 16:00:00", tz="UTC"),
        pd.Timestamp("2024-02-02 07:00:00", tz="UTC"),
    ]
    assert records["nps"].tolist() == [10, 0, pd.NA]
    assert str(records["nps"].dtype) == "Int64"
    assert records["response_id"].str.match(r"^srv_[0-9a-f]{24}$").all()
    # The unusable NPS answer is still kept in the answers table.
    assert "eleven" in result.extra["answers"]["answer"].tolist()
    consents = result.consents
    assert consents[["identifier", "purpose", "granted"]].values.tolist() == [
        ["ann@example.com", "email_marketing", True],
        ["bo@example.com", "email_marketing", False],
    ]
    assert (consents["source"] == "survey").all() and (consents["identifier_type"] == "email").all()
    assert consents["source_record"].tolist() == records["response_id"].tolist()[:2]
    assert consents["captured_at"].tolist() == records["submitted_at"].tolist()[:2]


def test_hashed_response_ids_are_stable_across_reexports(tmp_path: Path) -> None:
    rows = [["Timestamp", "Email Address", "Q"], ["1/31/2024 9:15:02", "a@example.com", "x"]]
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    one.write_text(_csv(rows), encoding="utf-8")
    two.write_text(_csv(rows + [["2/1/2024 9:00:00", "b@example.com", "y"]]), encoding="utf-8")
    first, second = parse_survey_file(one), parse_survey_file(two)
    assert first.records["response_id"].iloc[0] == second.records["response_id"].iloc[0]
    assert second.records["response_id"].is_unique
    survey_id = first.records["survey_id"].iloc[0]
    assert first.records["response_id"].iloc[0] == stable_response_id(survey_id, 1, rows[1])
    assert stable_response_id(survey_id, 1, rows[1]) != stable_response_id(survey_id, 2, rows[1])


def test_typeform_hidden_email_and_sms_consent(tmp_path: Path) -> None:
    content = _csv(
        [
            [
                "#",
                "What's your email?",
                "Can we text you offers by SMS?",
                "Submitted At",
                "Token",
                "Network ID",
            ],
            ["", "ann@example.com", "TRUE", "2024-05-01 10:00:00", "tok1", "n1"],
        ]
    )
    path = tmp_path / "tf.csv"
    path.write_text(content, encoding="utf-8")
    result = parse_survey_file(path)
    assert result.info["layout"] == "typeform"
    assert result.records.loc[0, "response_id"] == "tok1"
    assert result.records.loc[0, "respondent_email"] == "ann@example.com"
    assert result.consents[["identifier", "purpose", "granted"]].values.tolist() == [
        ["ann@example.com", "sms_marketing", True]
    ]


def test_plain_csv_with_dayfirst_dates_and_full_name(tmp_path: Path) -> None:
    content = _csv(
        [
            ["id", "Name", "Email", "Phone", "Country", "Date submitted", "Subscribe to our newsletter"],
            ["7", "Lee, Ann", "ann@example.com", "+44 20 7946 0000", "GB", "13/01/2024 10:00", "checked"],
            ["8", "Bo Ng", "", "+44 20 7946 0001", "GB", "02/01/2024 10:00", "no"],
        ]
    )
    path = tmp_path / "plain.csv"
    path.write_text(content, encoding="utf-8")
    result = parse_survey_file(path)
    records = result.records
    assert result.info["layout"] == "plain"
    assert records[["response_id", "first_name", "last_name", "phone", "country"]].values.tolist() == [
        ["7", "Ann", "Lee", "+44 20 7946 0000", "GB"],
        ["8", "Bo", "Ng", "+44 20 7946 0001", "GB"],
    ]
    # One value above 12 in first place makes the whole column day-first.
    assert records["submitted_at"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-13", "2024-01-02"]
    assert result.info["submitted_at"]["date_order"] == ["dmy"]
    # No email: the consent statement is keyed by phone instead.
    assert result.consents[["identifier_type", "granted"]].values.tolist() == [
        ["email", True],
        ["phone", False],
    ]


def test_qualtrics_timezone_from_import_id(tmp_path: Path) -> None:
    content = _csv(
        [
            ["StartDate", "EndDate", "RecordedDate", "ResponseId", "RecipientEmail", "Q1"],
            ["Start Date", "End Date", "Recorded Date", "Response ID", "Recipient Email", "How are you?"],
            [
                '{"ImportId":"startDate","timeZone":"America/Denver"}',
                '{"ImportId":"endDate","timeZone":"America/Denver"}',
                '{"ImportId":"recordedDate","timeZone":"America/Denver"}',
                '{"ImportId":"_recordId"}',
                '{"ImportId":"recipientEmail"}',
                '{"ImportId":"QID1"}',
            ],
            [
                "2024-01-01 08:00:00",
                "2024-01-01 09:00:00",
                "2024-01-01 09:00:01",
                "R_1",
                "ann@example.com",
                "Fine",
            ],
        ]
    )
    path = tmp_path / "q.csv"
    path.write_text(content, encoding="utf-8")
    result = parse_survey_file(path)
    assert result.info["submitted_at"]["naive_timezone"] == "America/Denver"
    assert result.records.loc[0, "submitted_at"] == pd.Timestamp("2024-01-01 16:00:01", tz="UTC")
    assert result.records.loc[0, "respondent_email"] == "ann@example.com"
    assert result.extra["answers"][["question_id", "question_text", "answer"]].values.tolist() == [
        ["Q1", "How are you?", "Fine"]
    ]
