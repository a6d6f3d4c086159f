"""Consent statements from survey opt-in questions ("May we email you...", "subscribe", "opt in")."""

from __future__ import annotations

import re

from uds_pipelines.lib.ingest.surveys.model import Question

# Wording that on its own marks an opt-in question.
_OPT_IN_ALONE = re.compile(
    r"\b(subscribe|newsletter|mailing list|(e-?mail|text|contact|call|message) you\b)", re.I
)
# Wording that marks one only together with a channel or marketing word: "I consent to the study" is not marketing.
_OPT_IN_WEAK = re.compile(
    r"\b(consent|opt[ -]?in|agree to receive|happy (for|to)|would you like|keep me)", re.I
)
_CHANNEL = re.compile(
    r"\b(e-?mails?|newsletters?|marketing|offers|promotions?|updates|news|sms|text(s| messages?)?|"
    r"contact|ads|advertising|advertisements?|personali[sz]ed|analytics|cookies|tracking)\b",
    re.I,
)
_PURPOSES = (
    ("sms_marketing", re.compile(r"\b(sms|text messages?|texts|text you|whatsapp)\b", re.I)),
    (
        "ad_targeting",
        re.compile(r"\b(ads|advertising|advertisements?|ad targeting|personali[sz]ed ads)\b", re.I),
    ),
    ("analytics", re.compile(r"\b(analytics|cookies|tracking|usage data)\b", re.I)),
)
_YES = {
    "yes",
    "y",
    "true",
    "1",
    "checked",
    "x",
    "on",
    "agree",
    "i agree",
    "opt in",
    "opt-in",
    "subscribe",
    "oui",
    "ja",
}
_NO = {
    "no",
    "n",
    "false",
    "0",
    "unchecked",
    "off",
    "disagree",
    "i disagree",
    "opt out",
    "opt-out",
    "non",
    "nein",
}


def consent_purpose(text: str) -> str | None:
    """The purpose an opt-in question asks about, or None when it is not an opt-in question."""
    if not (_OPT_IN_ALONE.search(text) or (_OPT_IN_WEAK.search(text) and _CHANNEL.search(text))):
        return None
    for purpose, pattern in _PURPOSES:
        if pattern.search(text):
            return purpose
    return "email_marketing"


def consent_answer(answer: str | None, option: str | None = None) -> bool | None:
    """Yes/No/True/False/checked to a grant; a checkbox whose value is its own label counts as checked."""
    if answer is None:
        return None
    text = answer.strip().lower().rstrip(".!")
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    if option and text == option.strip().lower().rstrip(".!"):
        return True
    if re.match(r"^yes\b", text):
        return True
    if re.match(r"^no\b", text):
        return False
    return None


def consent_questions(questions: list[Question]) -> list[tuple[Question, str]]:
    """Opt-in questions with their purpose; the option label counts too ("Keep me updated: Email")."""
    found = []
    for question in questions:
        purpose = consent_purpose(f"{question.question_text} {question.option or ''}")
        if purpose:
            found.append((question, purpose))
    return found
