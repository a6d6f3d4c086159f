"""Survey export layouts as real tools write them: Qualtrics (3-row and legacy), SurveyMonkey, Typeform, Google Forms."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from uds_pipelines.lib.generator.ids import ALPHABET
from uds_pipelines.lib.generator.people import Person
from uds_pipelines.lib.generator.variants import identity_fields

NPS_Q = "How likely are you to recommend us to a friend or colleague?"
OPTIN_Q = "May we email you news and offers?"
HEARD_Q = "How did you hear about us?"
BETTER_Q = "What could we do better?"
CHANNELS = ["Search engine", "Friend or colleague", "Social media", "Podcast"]
COMMENTS = [
    "Faster delivery please",
    "More colour options",
    "Great service!",
    "Cheaper shipping to Europe",
    "Ça marche très bien",
    "Nothing, keep going",
    "Better app on Android",
    "",
]
LAYOUTS = ["qualtrics_3row", "surveymonkey", "typeform", "google_forms", "qualtrics_legacy"]

QUALTRICS_META = [
    ("StartDate", "Start Date", "startDate"),
    ("EndDate", "End Date", "endDate"),
    ("Status", "Response Type", "status"),
    ("IPAddress", "IP Address", "ipAddress"),
    ("Progress", "Progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration"),
    ("Finished", "Finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate"),
    ("ResponseId", "Response ID", "_recordId"),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName"),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName"),
    ("RecipientEmail", "Recipient Email", "recipientEmail"),
    ("ExternalReference", "External Data Reference", "externalDataReference"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel"),
    ("UserLanguage", "User Language", "userLanguage"),
]
QUALTRICS_QUESTIONS = [
    ("Q1", NPS_Q, "QID1"),
    ("Q1_NPS_GROUP", NPS_Q + " - Group", "QID1_NPS_GROUP"),
    ("Q2", OPTIN_Q, "QID2"),
    ("Q3", HEARD_Q, "QID3"),
    ("Q4", BETTER_Q, "QID4_TEXT"),
]


def _nps_group(score: str) -> str:
    if score == "":
        return ""
    value = int(score)
    return "Promoter" if value >= 9 else ("Passive" if value >= 7 else "Detractor")


def _ip(rng: random.Random) -> str:
    return f"{rng.randint(11, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}"


class Answers:
    """One respondent's answers, shared by every layout."""

    def __init__(self, rng: random.Random, person: Person, ts: int) -> None:
        self.country = person.country if rng.random() < 0.7 else ""
        self.ids, notes = identity_fields(rng, person, phone_keep=0.5)
        self.note = "; ".join(notes)
        self.nps = (
            "" if rng.random() < 0.05 else str(rng.choices(range(11), [1, 1, 1, 1, 2, 3, 4, 6, 8, 8, 6])[0])
        )
        self.optin = rng.choice(["Yes", "Yes", "No"])
        self.heard = rng.choice(CHANNELS)
        self.better = rng.choice(COMMENTS)
        self.ts = ts
        self.start = ts - rng.randint(40, 900)
        self.at = datetime.fromtimestamp(ts, tz=UTC)


def _fmt(ts: int, pattern: str) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime(pattern)


def _qualtrics(rng: random.Random, rows: list[Answers]) -> tuple[list[list[str]], int, list[str]]:
    header = [m[0] for m in QUALTRICS_META] + [q[0] for q in QUALTRICS_QUESTIONS]
    labels = [m[1] for m in QUALTRICS_META] + [q[1] for q in QUALTRICS_QUESTIONS]
    imports = [json.dumps({"ImportId": m[2]}, separators=(",", ":")) for m in QUALTRICS_META] + [
        json.dumps({"ImportId": q[2]}, separators=(",", ":")) for q in QUALTRICS_QUESTIONS
    ]
    out, ids = [header, labels, imports], []
    for a in rows:
        rid = "R_" + "".join(rng.choices(ALPHABET, k=15))
        ids.append(rid)
        f = "%Y-%m-%d %H:%M:%S"
        out.append(
            [
                _fmt(a.start, f),
                _fmt(a.ts, f),
                "0",
                _ip(rng),
                "100",
                str(a.ts - a.start),
                "1",
                _fmt(a.ts, f),
                rid,
                a.ids["last_name"] or "",
                a.ids["first_name"] or "",
                a.ids["email"] or "",
                "",
                "email",
                "EN",
                a.nps,
                _nps_group(a.nps),
                a.optin,
                a.heard,
                a.better,
            ]
        )
    return out, 3, ids


def _qualtrics_legacy(rng: random.Random, rows: list[Answers]) -> tuple[list[list[str]], int, list[str]]:
    """The pre-2017 export: V1..V10 codes, a label row, a BOM and a trailing comma on every line."""
    meta = [
        "ResponseID",
        "ResponseSet",
        "Name",
        "ExternalDataReference",
        "EmailAddress",
        "IPAddress",
        "Status",
        "StartDate",
        "EndDate",
        "Finished",
    ]
    header = [f"V{i}" for i in range(1, 11)] + ["Q1", "Q2", "Q3", "Q4", ""]
    labels = meta + [NPS_Q, OPTIN_Q, HEARD_Q, BETTER_Q, ""]
    out, ids = [header, labels], []
    for a in rows:
        rid = "R_" + "".join(rng.choices(ALPHABET, k=15))
        ids.append(rid)
        f = "%Y-%m-%d %H:%M:%S"
        first, last = a.ids["first_name"] or "", a.ids["last_name"] or ""
        name = f"{last}, {first}" if last else (first or "Anonymous")
        out.append(
            [
                rid,
                "Default Response Set",
                name,
                "",
                a.ids["email"] or "",
                _ip(rng),
                "0",
                _fmt(a.start, f),
                _fmt(a.ts, f),
                "1",
                a.nps,
                a.optin,
                a.heard,
                a.better,
                "",
            ]
        )
    return out, 2, ids


def _surveymonkey(rng: random.Random, rows: list[Answers]) -> tuple[list[list[str]], int, list[str]]:
    meta = [
        "Respondent ID",
        "Collector ID",
        "Start Date",
        "End Date",
        "IP Address",
        "Email Address",
        "First Name",
        "Last Name",
        "Custom Data 1",
    ]
    row1 = meta + [NPS_Q, OPTIN_Q, HEARD_Q, "", "", "", BETTER_Q, "Contact information", "", "", ""]
    row2 = (
        [""] * len(meta)
        + ["Response", "Response"]
        + CHANNELS
        + ["Open-Ended Response", "Name", "Email Address", "Phone Number", "Country"]
    )
    out, ids = [row1, row2], []
    collector = str(rng.randint(400_000_000, 499_999_999))
    for a in rows:
        rid = str(rng.randint(10_000_000_000, 99_999_999_999))
        ids.append(rid)
        f = "%m/%d/%Y %I:%M:%S %p"
        name = " ".join(p for p in (a.ids["first_name"], a.ids["last_name"]) if p)
        choices = [c if c == a.heard else "" for c in CHANNELS]
        out.append(
            [
                rid,
                collector,
                _fmt(a.start, f),
                _fmt(a.ts, f),
                _ip(rng),
                a.ids["email"] or "",
                a.ids["first_name"] or "",
                a.ids["last_name"] or "",
                "",
                a.nps,
                a.optin,
                *choices,
                a.better,
                name,
                a.ids["email"] or "",
                a.ids["phone"] or "",
                a.country,
            ]
        )
    return out, 2, ids


def _typeform(rng: random.Random, rows: list[Answers]) -> tuple[list[list[str]], int, list[str]]:
    header = [
        "#",
        "What's your first name?",
        "And your last name?",
        "What's your email address?",
        NPS_Q,
        OPTIN_Q,
        HEARD_Q,
        BETTER_Q,
        "Start Date (UTC)",
        "Submit Date (UTC)",
        "Network ID",
    ]
    out, ids = [header], []
    for a in rows:
        token = f"{rng.getrandbits(128):032x}"
        ids.append(token)
        f = "%Y-%m-%d %H:%M:%S"
        out.append(
            [
                token,
                a.ids["first_name"] or "",
                a.ids["last_name"] or "",
                a.ids["email"] or "",
                a.nps,
                a.optin,
                a.heard,
                a.better,
                _fmt(a.start, f),
                _fmt(a.ts, f),
                f"{rng.getrandbits(40):010x}",
            ]
        )
    return out, 1, ids


def _google_forms(rng: random.Random, rows: list[Answers]) -> tuple[list[list[str]], int, list[None]]:
    header = ["Timestamp", "Email Address", NPS_Q, OPTIN_Q, "Your name", "Phone number", HEARD_Q, BETTER_Q]
    out = [header]
    for a in rows:
        ts = datetime.fromtimestamp(a.ts, tz=UTC)
        stamp = f"{ts.month}/{ts.day}/{ts.year} {ts.hour}:{ts.minute:02d}:{ts.second:02d}"
        name = " ".join(p for p in (a.ids["first_name"], a.ids["last_name"]) if p)
        out.append(
            [stamp, a.ids["email"] or "", a.nps, a.optin, name, a.ids["phone"] or "", a.heard, a.better]
        )
    # Google Forms exports carry no response id: ground truth matches these rows by file and position.
    return out, 1, [None] * len(rows)


WRITERS = {
    "qualtrics_3row": _qualtrics,
    "qualtrics_legacy": _qualtrics_legacy,
    "surveymonkey": _surveymonkey,
    "typeform": _typeform,
    "google_forms": _google_forms,
}
