"""Raw spellings of a person's identifiers as found in the lake, and the needles to erase them by."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from uds_pipelines.lib import lake
from uds_pipelines.lib.masking import EMAIL_RE, PHONE_RE
from uds_pipelines.lib.normalize import normalize_email, normalize_phone
from uds_pipelines.lib.privacy.needles import contains_any_sql, expand_needles, needle_pattern
from uds_pipelines.lib.privacy.requests import Subject
from uds_pipelines.lib.privacy.tables import fresh_views

STRIPE_ID_TYPES = ("stripe_customer",)
# Queries returning (request_id, text...) for the text of each person's own records (`_prv_refs`).
RECORD_QUERIES = (
    "SELECT r.request_id, t.respondent_email, t.phone FROM landed_survey_responses t JOIN _prv_refs r "
    "ON r.source = 'survey' AND t.response_id = r.value",
    "SELECT r.request_id, t.answer FROM landed_survey_answers t JOIN _prv_refs r "
    "ON r.source = 'survey' AND t.response_id = r.value",
    "SELECT r.request_id, t.email, t.phone, t.fields_json FROM landed_forms t JOIN _prv_refs r "
    "ON r.source = 'form' AND t.submission_id = r.value",
    "SELECT r.request_id, t.identifier FROM landed_consent t JOIN _prv_refs r ON t.source_record = r.value",
    "SELECT DISTINCT r.request_id, t.email, t.phone FROM landed_privacy t JOIN _prv_refs r "
    "ON t.request_id = r.request_id",
)
# The catalog tables whose views `collect_raw_values` reads.
READ_TABLES = (
    "landed_stripe",
    "landed_survey_responses",
    "landed_survey_answers",
    "landed_forms",
    "landed_consent",
    "landed_privacy",
    "quarantine",
)


def candidate_strings(text: str | None) -> list[str]:
    """Email- and phone-looking substrings of free text."""
    if not text:
        return []
    return [m.group(0) for m in EMAIL_RE.finditer(text)] + [m.group(0) for m in PHONE_RE.finditer(text)]


def owned_spellings(subject: Subject, candidates: list[str | None], default_region: str = "US") -> set[str]:
    """The candidates that normalize to one of the subject's own (unshared) emails or phones."""
    return owned_in(subject, spelling_index(candidates, default_region))


def spelling_index(candidates: list[str | None], default_region: str = "US") -> dict[tuple[str, str], set[str]]:
    """(type, normalized key) -> the spellings to erase for it: each candidate normalized once, so
    a backlog's people look theirs up instead of normalizing every candidate again per person."""
    index: dict[tuple[str, str], set[str]] = {}
    for raw in candidates:
        if not isinstance(raw, str) or not raw.strip():
            continue
        text = raw.strip()
        if "@" in text:
            result = normalize_email(text)
            if result.match_key:
                index.setdefault(("email", result.match_key), set()).update({text, result.normalized or text})
        else:
            e164 = normalize_phone(text, None, default_region).e164
            if e164:
                index.setdefault(("phone", e164), set()).add(text)
    return index


def owned_in(subject: Subject, index: dict[tuple[str, str], set[str]]) -> set[str]:
    """The spellings of `index` that belong to the subject's own (unshared) emails and phones."""
    out: set[str] = set()
    for id_type in ("email", "phone"):
        own = subject.values(id_type) - {v for t, v in subject.shared if t == id_type}
        for value in own:
            out |= index.get((id_type, value), set())
    return out


def _refs_frame(subjects: list[Subject]) -> pd.DataFrame:
    rows = [
        {"request_id": s.request_id, "source": src, "value": rec} for s in subjects for src, rec in s.records
    ]
    rows += [
        {"request_id": s.request_id, "source": "stripe", "value": v}
        for s in subjects
        for v in s.values("stripe_customer")
    ]
    rows += [
        {"request_id": s.request_id, "source": "customer", "value": c}
        for s in subjects
        for c in s.customer_ids
    ]
    return pd.DataFrame(rows, columns=["request_id", "source", "value"], dtype=object).drop_duplicates()


def _texts(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, list[str | None]]:
    out: dict[str, list[str | None]] = {}
    for rid, *values in con.execute(sql).fetchall():
        out.setdefault(rid, []).extend(values)
    return out


def collect_raw_values(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, subjects: list[Subject], default_region: str = "US"
) -> dict[str, set[str]]:
    """Fill `subject.raw_values` and `subject.stripe_objects`; returns raw values per request id.

    Looks at the person's own landed records (Stripe payloads by customer, survey responses and
    answers, form submissions, consent statements, their privacy requests) and at all quarantine
    text, and keeps only spellings that normalize to the person's own email or phone.
    """
    refs = _refs_frame(subjects)
    fresh_views(con, lake_dir, *READ_TABLES)
    con.register("_prv_refs", refs)
    try:
        rows = con.execute(
            "SELECT r.request_id, s.object_id, s.payload FROM landed_stripe s JOIN _prv_refs r "
            "ON r.source = 'stripe' AND s.customer_ref = r.value"
        ).fetchall()
        texts: dict[str, list[str | None]] = {}
        objects: dict[str, set[str]] = {}
        for rid, object_id, payload in rows:
            objects.setdefault(rid, set()).add(object_id)
            texts.setdefault(rid, []).extend(candidate_strings(payload))
        for sql in RECORD_QUERIES:
            for rid, values in _texts(con, sql).items():
                bucket = texts.setdefault(rid, [])
                for value in values:
                    bucket.extend(candidate_strings(value) if value and len(value) > 40 else [value])
        quarantine = spelling_index(_quarantine_candidates(con), default_region)
    finally:
        con.unregister("_prv_refs")
    result: dict[str, set[str]] = {}
    for subject in subjects:
        found = owned_spellings(subject, texts.get(subject.request_id, []), default_region)
        found |= owned_in(subject, quarantine)
        subject.raw_values |= found
        # united, not replaced: a resumed erasure keeps the ids found before the lake was rewritten
        subject.stripe_objects |= {o for o in objects.get(subject.request_id, set()) if o}
        result[subject.request_id] = set(subject.raw_values)
    add_identified_event_records(con, lake_dir, subjects, default_region)
    return result


def add_identified_event_records(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, subjects: list[Subject], default_region: str = "US"
) -> None:
    """Add to each person the event identities whose identify calls carry their own email or phone
    in `traits`, even where the identity map has not (yet) tied them: `('events', 'user:<userId>')`,
    and `'anon:<anonymousId>'` unless that anonymous id was used by several users (a shared device
    speaks for none of them)."""
    values = {v for s in subjects for t in ("email", "phone") for v in s.values(t)}
    pattern = needle_pattern(expand_needles(values | {v for s in subjects for v in s.raw_values}))
    if pattern is None:
        return
    fresh_views(con, lake_dir, "events")
    rows = con.execute(
        "SELECT user_id, anonymous_id, json_extract_string(traits, '$.email'), "
        "json_extract_string(traits, '$.phone') FROM events "
        f"WHERE type = 'identify' AND {contains_any_sql('traits', pattern)}"
    ).fetchall()
    anons = sorted({a for _u, a, _e, _p in rows if a})
    # Its users as identity counts them: calls carrying both ids, and aliases from the anonymous id.
    listed = lake.sql_literal_list(anons) or "NULL"
    shared = {
        a
        for (a,) in con.execute(
            f"SELECT a FROM (SELECT anonymous_id AS a, user_id AS u FROM events WHERE anonymous_id IN ({listed}) "
            f"UNION ALL SELECT previous_id, user_id FROM events WHERE type = 'alias' AND previous_id IN ({listed})) "
            "GROUP BY 1 HAVING count(DISTINCT u) > 1"
        ).fetchall()
    }
    for user, anon, email, phone in rows:
        index = spelling_index([email, phone], default_region)
        for subject in subjects:
            if not owned_in(subject, index):
                continue
            found = [("events", f"user:{user}")] if user else []
            found += [("events", f"anon:{anon}")] if anon and anon not in shared else []
            subject.records += [r for r in found if r not in subject.records]


def _quarantine_candidates(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Distinct email/phone-looking strings in quarantine `raw` text (no record ids to join on there)."""
    email_re = EMAIL_RE.pattern.replace("'", "''")
    rows = con.execute(
        f"SELECT DISTINCT unnest(regexp_extract_all(raw, '{email_re}')) FROM quarantine WHERE raw LIKE '%@%'"
    ).fetchall()
    out = [r[0] for r in rows]
    phone_like = con.execute(
        "SELECT DISTINCT unnest(regexp_extract_all(raw, '\\+?\\d[\\d\\s().-]{6,}\\d')) FROM quarantine"
    ).fetchall()
    return out + [r[0] for r in phone_like]


def subject_needles(subject: Subject) -> list[str]:
    """Lower-cased strings whose presence in any text marks a row as the person's."""
    shared = {v for _, v in subject.shared}
    values: set[str] = set(subject.raw_values)
    for id_type, value in subject.identifiers + subject.requested:
        if id_type in ("email", "phone", "customer_id", *STRIPE_ID_TYPES) and value not in shared:
            values.add(value)
        elif id_type == "external_id" and value not in shared and not str(value).strip().isdigit():
            # An app's user id in free text (Stripe metadata, hidden fields, answers). An all-digit
            # id is left to the id columns: as text it would also match amounts and timestamps.
            values.add(value)
    values |= {o for o in subject.stripe_objects if o}
    values |= set(subject.customer_ids)
    # The app's user ids of the person's events (in quarantined raw messages, in other payloads);
    # not anonymous ids, which other users' events carry too, nor all-digit ids (as for external ids).
    values |= {v for _kind, v in subject.event_ids("user") if not v.strip().isdigit()}
    return expand_needles(values)
