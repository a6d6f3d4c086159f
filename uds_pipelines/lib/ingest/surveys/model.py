"""What layout detection hands to row processing: column roles and questions of one export."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from uds_pipelines.lib.normalize.names import split_name_parts

# Identity roles a column can play; order in `LayoutSpec.fields[role]` is the priority.
IDENTITY_ROLES = ("email", "first_name", "last_name", "full_name", "phone", "country", "submitted_at")
LAYOUTS = ("qualtrics_3row", "qualtrics_legacy", "surveymonkey", "typeform", "google_forms", "plain")


@dataclass(frozen=True)
class Question:
    """One answer-bearing column: `question_id` is unique within the file."""

    index: int
    question_id: str
    question_text: str
    option: str | None = None  # sub-header / choice label of a multi-column question


@dataclass
class LayoutSpec:
    """A detected layout: how many header rows, which columns identify the respondent, the questions."""

    layout: str
    header_rows: int
    width: int
    named_width: int | None = (
        None  # columns up to the last one with a header; blank-headed ones may be missing
    )
    id_columns: list[int] = field(default_factory=list)
    id_required: bool = True
    fields: dict[str, list[int]] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    timestamp_tz: str | None = None  # IANA zone the export states for naive timestamps
    survey_id_column: int | None = None
    # Columns named like an app's user id (`lib.ingest.external_ids`): copied to `external_id`,
    # still kept as questions where they were (Typeform hidden fields, SurveyMonkey custom data).
    external_id_columns: list[int] = field(default_factory=list)
    notes: dict = field(default_factory=dict)

    def add_field(self, role: str, index: int) -> None:
        self.fields.setdefault(role, []).append(index)

    def role_columns(self) -> set[int]:
        used = {i for cols in self.fields.values() for i in cols}
        return used | set(self.id_columns)


def norm_header(text: str | None) -> str:
    """Compare headers loosely: case, underscores, hyphens and repeated spaces do not matter."""
    if not text:
        return ""
    return re.sub(r"[\s_\-]+", " ", text.replace("\ufeff", "")).strip().lower()


def cell(row: list[str], index: int) -> str:
    return row[index] if index < len(row) else ""


def dedupe_names(names: list[str]) -> tuple[list[str], list[str]]:
    """Suffix repeated names (`Q1`, `Q1__2`) so each column keeps its own id; returns (names, duplicates)."""
    seen: dict[str, int] = {}
    out: list[str] = []
    duplicates: list[str] = []
    taken = set(names)
    for name in names:
        if name in seen:
            seen[name] += 1
            candidate = f"{name}__{seen[name]}"
            while candidate in taken:
                seen[name] += 1
                candidate = f"{name}__{seen[name]}"
            taken.add(candidate)
            duplicates.append(name)
            out.append(candidate)
        else:
            seen[name] = 1
            out.append(name)
    return out, sorted(set(duplicates))


# Loose aliases for flat exports (Typeform hidden fields, Google Forms, plain CSVs).
ALIASES: dict[str, set[str]] = {
    "response_id": {"response id", "responseid", "id", "respondent id", "submission id", "token"},
    "email": {
        "email",
        "email address",
        "e mail",
        "e mail address",
        "respondent email",
        "emailaddress",
        "mail",
    },
    "first_name": {"first name", "firstname", "given name", "forename"},
    "last_name": {"last name", "lastname", "surname", "family name"},
    "full_name": {"name", "full name", "fullname", "your name"},
    "phone": {"phone", "phone number", "mobile", "mobile phone", "mobile number", "telephone", "tel", "cell"},
    "country": {"country", "country code", "countrycode"},
    "submitted_at": {
        "submitted at",
        "submitted",
        "submit date",
        "submit date (utc)",
        "timestamp",
        "created at",
        "completed at",
        "response date",
        "date submitted",
        "end date",
        "enddate",
    },
    "survey_id": {"survey id", "surveyid", "form id"},
}


def alias_role(header: str) -> str | None:
    key = norm_header(header)
    for role, names in ALIASES.items():
        if key in names:
            return role
    return None


ANONYMOUS_NAMES = {"anonymous", "anonym", "anonyme", "anónimo", "anonimo"}


def split_full_name(value: str) -> tuple[str | None, str | None]:
    """(first, last) from one name cell as written: "Last, First" (Qualtrics panels), "First Last"
    (`names.split_name_parts`: titles and suffixes dropped), or "Anonymous"."""
    text = value.strip()
    if not text or text.lower() in ANONYMOUS_NAMES:
        return None, None
    return split_name_parts(text)
