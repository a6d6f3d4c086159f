"""A small hand-built lake with two people (Jane, Bob) in every table, for the privacy tests."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from uds_pipelines.lib import catalog, lake

T0 = pd.Timestamp("2025-06-01T12:00:00Z")
OLD = pd.Timestamp("2022-01-01T12:00:00Z")
JANE_CID, BOB_CID = "uds_aaaaaaaaaaaaaaaaaaaa", "uds_bbbbbbbbbbbbbbbbbbbb"
JANE_SPELLINGS = {
    "Jane.Doe+news@GMAIL.com",
    "jane.doe@gmail.com",
    "JANE.DOE@gmail.com",
    "janedoe@gmail.com",
    "+14155550123",
    "(415) 555-0123",
    "415.555.0123",
    "cus_JANE000000001",
}
BOB_SPELLINGS = {"bob.smith@example.com", "+14155550199", "cus_BOB0000000001"}


@dataclass
class Lake:
    data_dir: Path
    lake_dir: Path
    exports_dir: Path
    warehouse_url: str


def _event(evt: str, typ: str, obj: dict, created: pd.Timestamp) -> dict:
    return {
        "id": evt,
        "object": "event",
        "type": typ,
        "created": int(created.timestamp()),
        "data": {"object": obj},
    }


def _stripe_rows(events: list[dict], source_file: str) -> pd.DataFrame:
    rows = []
    for i, e in enumerate(events, 1):
        obj = e["data"]["object"]
        rows.append(
            {
                "event_id": e["id"],
                "type": e["type"],
                "created": pd.Timestamp(e["created"], unit="s", tz="UTC"),
                "livemode": False,
                "api_version": "2024-06-20",
                "object_type": obj["object"],
                "object_id": obj["id"],
                "customer_ref": obj["id"] if obj["object"] == "customer" else obj.get("customer"),
                "payload": json.dumps(e),
                "source_file": source_file,
                "position": i,
                "landed_at": T0,
            }
        )
    return pd.DataFrame(rows)


def write(frame: pd.DataFrame, path: Path) -> None:
    lake.write_parquet_atomic(frame, path)


def build_lake(tmp: Path) -> Lake:
    data = tmp / "data"
    ld, ex = data / "lake", data / "exports"
    jane_cus = {
        "id": "cus_JANE000000001",
        "object": "customer",
        "email": "Jane.Doe+news@GMAIL.com",
        "phone": "+14155550123",
        "name": "Jane Doe",
    }
    bob_cus = {
        "id": "cus_BOB0000000001",
        "object": "customer",
        "email": "bob.smith@example.com",
        "phone": "+14155550199",
        "name": "Bob Smith",
    }
    jane_ch = {
        "id": "ch_JANE00000000001",
        "object": "charge",
        "customer": "cus_JANE000000001",
        "amount": 1200,
        "currency": "usd",
    }
    refund = {"id": "re_JANE00000000001", "object": "refund", "charge": "ch_JANE00000000001", "amount": 200}
    bob_ch = {
        "id": "ch_BOB000000000001",
        "object": "charge",
        "customer": "cus_BOB0000000001",
        "amount": 900,
        "currency": "usd",
        "description": "order for joe",
    }
    write(
        _stripe_rows(
            [
                _event("evt_1", "customer.created", jane_cus, T0),
                _event("evt_2", "charge.succeeded", jane_ch, T0),
                _event("evt_3", "charge.refunded", refund, T0),
            ],
            "a.jsonl",
        ),
        ld / catalog.table("landed_stripe").path / "batch-a.parquet",
    )
    write(
        _stripe_rows(
            [
                _event("evt_4", "customer.created", bob_cus, T0),
                _event("evt_5", "charge.succeeded", bob_ch, OLD),
            ],
            "b.jsonl",
        ),
        ld / catalog.table("landed_stripe").path / "batch-b.parquet",
    )
    responses = pd.DataFrame(
        [
            {
                "response_id": "R_jane000001",
                "survey_id": "SV_1",
                "layout": "qualtrics_3row",
                "respondent_email": "jane.doe@gmail.com",
                "first_name": "Jane",
                "last_name": "Doe",
                "phone": "(415) 555-0123",
                "country": "US",
                "submitted_at": T0,
                "nps": 9,
                "source_file": "s.csv",
                "position": 1,
            },
            {
                "response_id": "R_bob0000001",
                "survey_id": "SV_1",
                "layout": "qualtrics_3row",
                "respondent_email": "bob.smith@example.com",
                "first_name": "Bob",
                "last_name": "Smith",
                "phone": None,
                "country": "US",
                "submitted_at": OLD,
                "nps": 4,
                "source_file": "s.csv",
                "position": 2,
            },
        ]
    )
    write(responses, ld / catalog.table("landed_survey_responses").path / "batch-s.parquet")
    answers = pd.DataFrame(
        [
            {
                "response_id": "R_jane000001",
                "question_id": "Q1",
                "question_text": "Contact?",
                "answer": "mail me at JANE.DOE@gmail.com",
            },
            {
                "response_id": "R_bob0000001",
                "question_id": "Q1",
                "question_text": "Contact?",
                "answer": "no thanks",
            },
        ]
    )
    write(answers, ld / catalog.table("landed_survey_answers").path / "batch-s.parquet")
    forms = pd.DataFrame(
        [
            {
                "submission_id": "sub-jane-0001",
                "form_provider": "flat",
                "form_id": "f1",
                "submitted_at": T0,
                "email": "JANE.DOE@gmail.com",
                "phone": "415.555.0123",
                "first_name": "Jane",
                "last_name": "Doe",
                "country": "US",
                "fields_json": json.dumps({"note": "Jane.Doe+news@GMAIL.com"}),
                "source_file": "f.jsonl",
                "position": 1,
            },
            {
                "submission_id": "sub-bob-0001",
                "form_provider": "flat",
                "form_id": "f1",
                "submitted_at": OLD,
                "email": "bob.smith@example.com",
                "phone": "+14155550199",
                "first_name": "Bob",
                "last_name": "Smith",
                "country": "US",
                "fields_json": "{}",
                "source_file": "f.jsonl",
                "position": 2,
            },
        ]
    )
    write(forms, ld / catalog.table("landed_forms").path / "batch-f.parquet")
    consent = pd.DataFrame(
        [
            {
                "identifier_type": "email",
                "identifier": "JANE.DOE@gmail.com",
                "purpose": "email_marketing",
                "granted": True,
                "captured_at": T0,
                "source": "form",
                "source_record": "sub-jane-0001",
                "source_file": "f.jsonl",
            },
            {
                "identifier_type": "email",
                "identifier": "bob.smith@example.com",
                "purpose": "email_marketing",
                "granted": True,
                "captured_at": T0,
                "source": "form",
                "source_record": "sub-bob-0001",
                "source_file": "f.jsonl",
            },
        ]
    )
    write(consent, ld / catalog.table("landed_consent").path / "batch-c.parquet")
    write(
        pd.DataFrame(
            [
                {
                    "request_id": "req-e1",
                    "type": "erasure",
                    "email": "jane.doe@gmail.com",
                    "phone": None,
                    "customer_id": None,
                    "received_at": T0,
                    "purpose": None,
                    "granted": None,
                    "source_file": "p.json",
                    "position": 1,
                }
            ]
        ),
        ld / catalog.table("landed_privacy").path / "batch-p.parquet",
    )
    quarantine = pd.DataFrame(
        [
            {
                "source": "stripe",
                "source_file": "a.jsonl",
                "position": 9,
                "reason": "invalid JSON at line 9",
                "raw": '{"email": "JANE.DOE+other@gmail.com", "id": ',
                "quarantined_at": T0,
            },
            {
                "source": "forms",
                "source_file": "f.jsonl",
                "position": 3,
                "reason": "invalid JSON at line 3",
                "raw": '{"email": "bob.smith@example.com"',
                "quarantined_at": T0,
            },
            {
                "source": "forms",
                "source_file": "f.jsonl",
                "position": 4,
                "reason": "invalid JSON",
                "raw": "{{{",
                "quarantined_at": OLD,
            },
        ]
    )
    write(quarantine, ld / catalog.table("quarantine").path / "quarantine-1.parquet")
    ident_rows = [
        ("stripe", "cus_JANE000000001", "email", "janedoe@gmail.com"),
        ("stripe", "cus_JANE000000001", "phone", "+14155550123"),
        ("stripe", "cus_JANE000000001", "stripe_customer", "cus_JANE000000001"),
        ("survey", "R_jane000001", "email", "janedoe@gmail.com"),
        ("survey", "R_jane000001", "survey_response", "R_jane000001"),
        ("form", "sub-jane-0001", "phone", "+14155550123"),
        ("form", "sub-jane-0001", "form_submission", "sub-jane-0001"),
        ("stripe", "cus_BOB0000000001", "email", "bob.smith@example.com"),
        ("stripe", "cus_BOB0000000001", "phone", "+14155550199"),
        ("stripe", "cus_BOB0000000001", "stripe_customer", "cus_BOB0000000001"),
        ("survey", "R_bob0000001", "email", "bob.smith@example.com"),
        ("form", "sub-bob-0001", "email", "bob.smith@example.com"),
    ]
    identifiers = pd.DataFrame(ident_rows, columns=["source", "record_id", "id_type", "id_value"]).assign(
        observed_at=T0
    )
    write(identifiers, ld / "identity" / "identifiers.parquet")
    id_map = identifiers[["source", "record_id"]].drop_duplicates().copy()
    id_map["customer_id"] = [
        JANE_CID if ("JANE" in r or "jane" in r) else BOB_CID for r in id_map["record_id"]
    ]
    write(id_map.reset_index(drop=True), ld / catalog.table("identity_map").path)
    profiles = pd.DataFrame(
        [
            {
                "customer_id": JANE_CID,
                "email": "jane.doe+news@gmail.com",
                "phone": "+14155550123",
                "first_name": "Jane",
                "last_name": "Doe",
                "country": "US",
                "lifetime_value": 10.0,
                "consent_email_marketing": True,
            },
            {
                "customer_id": BOB_CID,
                "email": "bob.smith@example.com",
                "phone": "+14155550199",
                "first_name": "Bob",
                "last_name": "Smith",
                "country": "US",
                "lifetime_value": 9.0,
                "consent_email_marketing": True,
            },
        ]
    )
    write(profiles, ld / catalog.table("customer_profiles").path)
    write(
        pd.DataFrame({"customer_id": [JANE_CID, BOB_CID], "segment": ["vip", "vip"], "entered_at": [T0, T0]}),
        ld / catalog.table("segment_membership").path,
    )
    write(
        pd.DataFrame(
            {
                "customer_id": [JANE_CID, BOB_CID],
                "segment": ["vip", "vip"],
                "entered_at": [T0, T0],
                "exited_at": [None, None],
            }
        ),
        ld / "segments" / "segment_history.parquet",
    )
    write(
        pd.DataFrame(
            {
                "customer_id": ["cus_JANE000000001", "cus_BOB0000000001"],
                "email": ["jane.doe+news@gmail.com", "bob.smith@example.com"],
            }
        ),
        catalog.path(ld, "stripe_customers") / "part-fixture.parquet",
    )
    _exports(ex)
    url = f"sqlite:///{data / 'warehouse.sqlite'}"
    _warehouse(url, profiles)
    return Lake(data, ld, ex, url)


def _exports(ex: Path) -> None:
    folder = ex / "audiences" / "vip_email"
    folder.mkdir(parents=True)
    rows = [
        ["customer_id", "email", "first_name", "last_name"],
        [JANE_CID, "jane.doe+news@gmail.com", "Jane", "Doe"],
        [BOB_CID, "bob.smith@example.com", "Bob", "Smith"],
    ]
    with open(folder / "vip_email-20250601.csv", "w", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    manifest = {
        "audience": "vip_email",
        "file": "vip_email-20250601.csv",
        "rows": 2,
        "counts": {
            "in_segment": 2,
            "excluded_no_consent": 0,
            "excluded_erased_or_suppressed": 0,
            "exported": 2,
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    hashed = ex / "audiences" / "vip_hashed"
    hashed.mkdir(parents=True)
    sha = lambda v: hashlib.sha256(v.encode()).hexdigest()  # noqa: E731
    with open(hashed / "vip_hashed-20250601.csv", "w", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(
            [
                ["customer_id", "email_sha256", "phone_sha256"],
                ["uds_cccccccccccccccccccc", sha("jane.doe+news@gmail.com"), sha("+14155550123")],
                [BOB_CID, sha("bob.smith@example.com"), sha("+14155550199")],
            ]
        )
    access = ex / "access_requests"
    access.mkdir(parents=True)
    (access / "req-a-jane.json").write_text(
        json.dumps({"customer_ids": [JANE_CID], "email": "jane.doe@gmail.com"})
    )
    (access / "req-a-bob.json").write_text(
        json.dumps({"customer_ids": [BOB_CID], "email": "bob.smith@example.com"})
    )


def _warehouse(url: str, profiles: pd.DataFrame) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        profiles.to_sql("customer_profiles", conn, index=False)
        pd.DataFrame(
            {
                "audience": ["vip_email", "vip_email"],
                "customer_id": [JANE_CID, BOB_CID],
                "email": ["jane.doe+news@gmail.com", "bob.smith@example.com"],
            }
        ).to_sql("audience_members", conn, index=False)
    engine.dispose()
