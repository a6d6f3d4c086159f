"""The same Qualtrics survey exported in the 3-row and the legacy 2-row form gives the same responses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uds_pipelines.lib.ingest.surveys import parse_survey_file


def _answers_by_text(path: Path) -> pd.DataFrame:
    """Answers keyed by question text and its occurrence: the two forms number columns differently
    (`Q2_-1` vs `Q2_4`) and some questions repeat their wording."""
    answers = parse_survey_file(path).extra["answers"]
    answers = answers[answers["question_text"] != ""]
    # nth occurrence of a wording, in the column order of the export
    order = answers.drop_duplicates("question_id")[["question_id", "question_text"]].copy()
    order["nth"] = order.groupby("question_text").cumcount()
    keyed = answers.merge(order[["question_id", "nth"]], on="question_id")
    return keyed[["response_id", "question_text", "nth", "answer"]].sort_values(
        ["response_id", "question_text", "nth"], ignore_index=True
    )


def test_no_basis_survey_same_ids_and_answers_in_both_forms(realdata: Path) -> None:
    three_row = parse_survey_file(realdata / "surveys" / "qualtrics_insights_no_basis_3header.csv")
    legacy = parse_survey_file(realdata / "surveys" / "qualtrics_legacy_no_basis_2header.csv")
    assert three_row.info["layout"] == "qualtrics_3row"
    assert legacy.info["layout"] == "qualtrics_legacy"
    ids = set(three_row.records["response_id"])
    assert len(ids) == 15 and ids == set(legacy.records["response_id"])
    assert three_row.records["survey_id"].iloc[0] == legacy.records["survey_id"].iloc[0]
    a = _answers_by_text(realdata / "surveys" / "qualtrics_insights_no_basis_3header.csv")
    b = _answers_by_text(realdata / "surveys" / "qualtrics_legacy_no_basis_2header.csv")
    assert len(a) > 300
    pd.testing.assert_frame_equal(a, b)


def test_sample_survey_same_response_in_both_forms(realdata: Path) -> None:
    three_row = parse_survey_file(realdata / "surveys" / "qualtrics_sample_3header.csv")
    legacy = parse_survey_file(realdata / "surveys" / "qualtrics_sample_legacy_2header.csv")
    assert (
        three_row.records["response_id"].tolist()
        == legacy.records["response_id"].tolist()
        == ["R_2YPOQ602ER1jkf1"]
    )
    # Same EndDate/RecordedDate moment in both forms.
    assert three_row.records["submitted_at"].iloc[0] == legacy.records["submitted_at"].iloc[0]

    def by_text(result) -> dict[str, str]:
        answers = result.extra["answers"]
        return dict(zip(answers["question_text"], answers["answer"], strict=True))

    assert (
        by_text(three_row)
        == by_text(legacy)
        == {
            "This is a multiple choice question.": "2",
            "This is a free text question.": "Hello World!",
        }
    )
