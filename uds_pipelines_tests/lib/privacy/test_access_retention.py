import json
from datetime import UTC, datetime

import pandas as pd

from uds_pipelines.lib import catalog, connection, lake
from uds_pipelines.lib.identity.inputs import build_identity_inputs
from uds_pipelines.lib.privacy import (
    apply_retention,
    build_access_report,
    handle_requests,
    subjects_from_frame,
)
from uds_pipelines.lib.privacy.access import prefetch_sources
from uds_pipelines.lib.privacy.variants import collect_raw_values
from uds_pipelines.lib.staging.stripe import build_stripe_staging
from uds_pipelines_tests.lib.privacy.helpers import request, resolve, snapshot
from uds_pipelines_tests.lib.privacy.lakefixture import BOB_CID, JANE_CID, build_lake


def test_access_report_holds_everything_planted(tmp_path):
    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    subjects = resolve(con, lk.lake_dir, [request("req-a1", "access", phone="+1 415 555 0123")])
    report = build_access_report(con, lk.lake_dir, lk.exports_dir, subjects_from_frame(subjects)[0])
    assert report["customer_ids"] == [JANE_CID]
    assert [p["customer_id"] for p in report["profile"]] == [JANE_CID]
    assert {"type": "email", "value": "janedoe@gmail.com"} in report["identifiers"]
    assert {"type": "stripe_customer", "value": "cus_JANE000000001"} in report["identifiers"]
    assert [c["source_record"] for c in report["consents"]] == ["sub-jane-0001"]
    assert {e["id"] for e in report["stripe_events"]} == {"evt_1", "evt_2"}
    assert [r["response_id"] for r in report["survey_responses"]] == ["R_jane000001"]
    assert "JANE.DOE@gmail.com" in report["survey_answers"][0]["answer"]
    assert report["form_submissions"][0]["fields_json"] == {"note": "Jane.Doe+news@GMAIL.com"}
    assert [s["segment"] for s in report["segments"]] == ["vip"] and len(report["segment_history"]) == 1
    assert [a["audience"] for a in report["audience_exports"]] == ["vip_email"]
    json.dumps(report)  # plain JSON: timestamps already strings


def test_a_batch_of_access_reports_equals_one_report_at_a_time(tmp_path):
    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    asks = [request("req-a1", "access", phone="+1 415 555 0123"), request("req-a2", "access", customer_id=BOB_CID)]
    alone = [
        build_access_report(con, lk.lake_dir, lk.exports_dir, s)
        for s in subjects_from_frame(resolve(con, lk.lake_dir, asks))
    ]
    batch = subjects_from_frame(resolve(con, lk.lake_dir, asks))
    collect_raw_values(con, lk.lake_dir, batch)
    sources = prefetch_sources(con, lk.lake_dir, batch)
    together = [build_access_report(con, lk.lake_dir, lk.exports_dir, s, sources=sources) for s in batch]
    for report in alone + together:
        report.pop("generated_at")
    assert together == alone
    assert alone[0]["customer_ids"] == [JANE_CID] and alone[1]["customer_ids"] == [BOB_CID]
    assert alone[0]["stripe_events"] and alone[0]["profile"] != alone[1]["profile"]


def test_access_request_writes_file_atomically_and_audits(tmp_path):
    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    subjects = resolve(con, lk.lake_dir, [request("req-a1", "access", customer_id=JANE_CID)])
    result = handle_requests(
        lk.lake_dir, lk.exports_dir, subjects, key=b"k", warehouse_url=lk.warehouse_url, run_id="r", con=con
    )
    path = lk.exports_dir / "access_requests" / "req-a1.json"
    assert result.access_files == [path]
    assert json.loads(path.read_text())["customer_ids"] == [JANE_CID]
    assert not list(path.parent.glob(".*.tmp"))
    assert result.status_counts() == {"completed": 1}


def _merge_landed(lake_dir) -> None:
    """What the steps that keep durable state do before retention may delete raw rows (rebuilt:
    the fixture's staged tables are partial)."""
    build_stripe_staging(lake_dir, rebuild=True)
    con = connection.connect(lake_dir)
    try:
        build_identity_inputs(con, lake_dir, "US", rebuild=True)
    finally:
        con.close()


def test_retention_deletes_only_old_rows(tmp_path):
    lk = build_lake(tmp_path)
    as_of = datetime(2025, 6, 10, tzinfo=UTC)
    unmerged = apply_retention(lk.lake_dir, as_of, retention_days=730, quarantine_days=90)
    landed = ("landed/stripe", "landed/forms", "landed/surveys/responses", "landed/surveys/answers")
    assert [unmerged[t] for t in landed] == [0, 0, 0, 0]  # no step has taken their facts yet
    _merge_landed(lk.lake_dir)
    before = snapshot(lk.lake_dir)
    removed = apply_retention(
        lk.lake_dir, datetime(2025, 6, 10, tzinfo=UTC), retention_days=730, quarantine_days=90
    )
    assert removed == {
        "landed/stripe": 1,
        "landed/surveys/responses": 1,
        "landed/forms": 1,
        "landed/surveys/answers": 1,
        "quarantine": 0,  # its one old row went in the first pass
        "events": 0,  # none landed here (tests/lib/ingest/events covers events)
    }
    stripe = pd.read_parquet(lk.lake_dir / catalog.table("landed_stripe").path)
    assert sorted(stripe["event_id"]) == ["evt_1", "evt_2", "evt_3", "evt_4"]
    assert pd.read_parquet(lk.lake_dir / catalog.table("landed_survey_answers").path)["response_id"].tolist() == [
        "R_jane000001"
    ]
    assert len(pd.read_parquet(lk.lake_dir / catalog.table("quarantine").path)) == 2
    after = snapshot(lk.lake_dir)
    assert after["landed/stripe/batch-a.parquet"] == before["landed/stripe/batch-a.parquet"]
    assert after["landed/consent/batch-c.parquet"] == before["landed/consent/batch-c.parquet"]
    assert apply_retention(lk.lake_dir, datetime(2025, 6, 10, tzinfo=UTC)) == dict.fromkeys(
        removed, 0
    )
