"""Net Promoter Score: find the 0-10 "would you recommend" question and read its answers."""

from __future__ import annotations

import re

from uds_pipelines.lib.ingest.surveys.model import Question

# "10", "10 - Extremely likely", "0 - Not at all likely", "7: Somewhat"; labels after the number only.
_SCORE = re.compile(r"^\s*(\d{1,2})(?:\.0)?\s*(?:[-–—:]\s*\S.*)?$", re.DOTALL)
_NOT_NPS_ID = re.compile(r"_NPS_GROUP$", re.IGNORECASE)  # Qualtrics' promoter/passive/detractor recode


def mentions_nps(text: str) -> bool:
    lowered = text.lower()
    return "recommend" in lowered or ("likely" in lowered and "friend" in lowered)


def nps_value(answer: str | None) -> int | None:
    """The 0-10 score in an answer; None when out of range or not a score (the answer itself is kept)."""
    if answer is None:
        return None
    match = _SCORE.match(answer)
    if not match:
        return None
    score = int(match.group(1))
    return score if 0 <= score <= 10 else None


def find_nps_question(questions: list[Question], rows: list[list[str]]) -> Question | None:
    """The first question that reads like NPS and whose answers are mostly 0-10 scores.

    With no answers at all (a header-only export) the wording decides alone.
    """
    for question in questions:
        text = f"{question.question_text} {question.option or ''}"
        if not mentions_nps(text) or _NOT_NPS_ID.search(question.question_id):
            continue
        answers = [row[question.index].strip() for row in rows if question.index < len(row)]
        answers = [a for a in answers if a]
        if not answers:
            return question
        scored = sum(1 for a in answers if nps_value(a) is not None)
        if scored and scored >= len(answers) / 2:
            return question
    return None
