"""Form inbox files: provider payloads as JSONL and single JSON files, flat rows as JSONL and CSV."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from uds_pipelines.lib.generator import form_payloads as fp
from uds_pipelines.lib.generator.malformed import ragged_row, truncated_json
from uds_pipelines.lib.generator.people import Person
from uds_pipelines.lib.generator.pools import is_junk_email
from uds_pipelines.lib.generator.truth import LAND, QUARANTINE, Truth
from uds_pipelines.lib.generator.writer import Inbox

PROVIDERS = ["hubspot", "typeform", "webflow_v1", "webflow_v2", "netlify", "flat_jsonl", "flat_csv"]
WEIGHTS = [3, 2, 1, 2, 1, 3, 3]
ROWS_PER_FILE = 2000
SINGLE_FILES = 2  # per provider, also written as one-submission *.json files
FLAT_COLUMNS = [
    "submission_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "country",
    "submitted_at",
    "consent_email_marketing",
    "consent_sms_marketing",
    "consent_ad_targeting",
    "consent_analytics",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "date_of_birth",
    "address_line1",
    "city",
    "postcode",
]


def _build(rng: random.Random, provider: str, person: Person, ts: int, forced: bool | None) -> fp.Submission:
    if provider == "hubspot":
        return fp.hubspot(rng, person, ts, forced)
    if provider == "typeform":
        return fp.typeform(rng, person, ts, forced)
    if provider.startswith("webflow"):
        return fp.webflow(rng, person, ts, int(provider[-1]), forced)
    if provider == "netlify":
        return fp.netlify(rng, person, ts, forced)
    return fp.flat(rng, person, ts, forced)


def _csv_bool(rng: random.Random, value: bool | None) -> str:
    if value is None:
        return ""
    return rng.choice(["true", "yes", "1", "TRUE"] if value else ["false", "no", "0", "FALSE"])


def _flat_cell(rng: random.Random, column: str, value: object) -> object:
    if column in ("consent_email_marketing", "consent_sms_marketing"):
        return _csv_bool(rng, value)
    if column in ("consent_ad_targeting", "consent_analytics") and value is not None:
        return "yes" if value else "no"  # no draw from `rng`: see form_payloads.flat
    return value


def _dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _record(
    truth: Truth, sub: fp.Submission, person: Person, ts: int, rel: str, pos: int, note: str = ""
) -> None:
    notes = "; ".join(n for n in (note, sub.note) if n)
    truth.record("form_submission", sub.record_id, person.person_id, rel, pos, LAND, notes)
    email = sub.ids["email"]
    if email and not is_junk_email(email):
        at = datetime.fromtimestamp(ts, tz=UTC)
        for purpose, granted in sub.consents:
            truth.consent(person.person_id, "email", email, purpose, granted, at, "form", sub.record_id, rel)


def write_forms(
    rng: random.Random, inbox: Inbox, truth: Truth, plan: list[tuple[Person, int, bool | None]]
) -> int:
    """Write one submission per plan item `(person, unix time, forced email consent or None)`."""
    by_provider: dict[str, list] = {p: [] for p in PROVIDERS}
    for person, ts, forced in sorted(plan, key=lambda item: item[1]):
        # Withdrawals arrive through flat exports, where an explicit "no" is representable.
        provider = (
            rng.choice(["flat_jsonl", "flat_csv"]) if forced is False else rng.choices(PROVIDERS, WEIGHTS)[0]
        )
        by_provider[provider].append((person, ts, _build(rng, provider, person, ts, forced)))
    for provider, items in by_provider.items():
        if provider not in ("flat_jsonl", "flat_csv"):
            for k, (person, ts, sub) in enumerate(items[:SINGLE_FILES]):
                rel = inbox.write_json(f"forms/{provider}_single_{k + 1:03d}.json", sub.payload)
                _record(truth, sub, person, ts, rel, 1, "single submission file")
            items = items[SINGLE_FILES:]
        for part in range(0, len(items), ROWS_PER_FILE):
            chunk = items[part : part + ROWS_PER_FILE]
            name = (
                f"forms/{provider.replace('_jsonl', '').replace('_csv', '')}_{part // ROWS_PER_FILE + 1:03d}"
            )
            if provider == "flat_csv":
                _write_flat_csv(rng, inbox, truth, name + ".csv", chunk, malformed=part == 0)
            else:
                _write_jsonl(rng, inbox, truth, name + ".jsonl", chunk, malformed=part == 0)
    _write_broken_file(rng, inbox, truth, plan)
    return len(plan) + (1 if plan else 0)


def _write_jsonl(
    rng: random.Random, inbox: Inbox, truth: Truth, rel: str, items: list, malformed: bool
) -> None:
    lines = []
    for pos, (person, ts, sub) in enumerate(items, start=1):
        text = _dump(sub.payload)
        if malformed and pos in (2, 5) and len(items) >= 6:
            kind = "truncated JSON" if pos == 2 else "JSON array where an object is expected"
            text = truncated_json(text, rng) if pos == 2 else "[" + text + "]"
            truth.record("form_submission", sub.record_id, person.person_id, rel, pos, QUARANTINE, kind)
        else:
            _record(truth, sub, person, ts, rel, pos)
        lines.append(text + "\n")
    inbox.write_text(rel, "".join(lines))


def _write_flat_csv(
    rng: random.Random, inbox: Inbox, truth: Truth, rel: str, items: list, malformed: bool
) -> None:
    rows = [FLAT_COLUMNS]
    for pos, (person, ts, sub) in enumerate(items, start=1):
        row = [_flat_cell(rng, c, sub.flat[c]) for c in FLAT_COLUMNS]
        row = ["" if v is None else str(v) for v in row]
        if malformed and pos == 3 and len(items) >= 4:
            row, note = ragged_row(rng, row)
            truth.record("form_submission", sub.record_id, person.person_id, rel, pos, QUARANTINE, note)
        else:
            _record(truth, sub, person, ts, rel, pos)
        rows.append(row)
    inbox.write_csv(rel, rows)


def _write_broken_file(rng: random.Random, inbox: Inbox, truth: Truth, plan: list) -> None:
    """A single-submission JSON file cut off mid-way: the whole file is one quarantined record."""
    if not plan:
        return
    person, ts, _ = plan[0]
    sub = fp.hubspot(rng, person, ts)
    rel = inbox.write_text(
        "forms/hubspot_broken_001.json", truncated_json(json.dumps(sub.payload, indent=2), rng)
    )
    truth.record("form_submission", None, person.person_id, rel, 0, QUARANTINE, "truncated JSON file")
