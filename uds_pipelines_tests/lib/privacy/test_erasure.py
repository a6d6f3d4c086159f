import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.privacy import erase_subjects, handle_requests, read_audit, verify_erased
from uds_pipelines.lib.privacy.rewrite import MatchSpec, delete_where
from uds_pipelines_tests.lib.privacy.helpers import request, resolve, snapshot
from uds_pipelines_tests.lib.privacy.lakefixture import (
    BOB_CID,
    BOB_SPELLINGS,
    JANE_CID,
    JANE_SPELLINGS,
    build_lake,
)

KEY = b"test-key"


def test_resolution_covers_the_whole_person(tmp_path):
    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    subjects = resolve(con, lk.lake_dir, [request("r1", email="JANE.DOE@gmail.com")])
    row = subjects.iloc[0]
    assert row["customer_id"] == JANE_CID and row["status"] == "found"
    # named only by email, yet the phone and Stripe id of the same person come along
    assert ("phone", "+14155550123") in row["identifiers"]
    assert ("stripe_customer", "cus_JANE000000001") in row["identifiers"]
    assert set(row["records"]) == {
        ("stripe", "cus_JANE000000001"),
        ("survey", "R_jane000001"),
        ("form", "sub-jane-0001"),
    }
    by_phone = resolve(con, lk.lake_dir, [request("r2", phone="(415) 555-0123")]).iloc[0]
    assert by_phone["customer_id"] == JANE_CID


def test_erasure_by_email_reaches_every_table_and_spares_others(tmp_path):
    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    bob_before = verify_erased(lk.data_dir, lk.warehouse_url, BOB_SPELLINGS)
    assert verify_erased(lk.data_dir, lk.warehouse_url, JANE_SPELLINGS)
    subjects = resolve(con, lk.lake_dir, [request("req-e1", email="jane.doe@gmail.com")])
    result = handle_requests(
        lk.lake_dir, lk.exports_dir, subjects, key=KEY, warehouse_url=lk.warehouse_url, run_id="r", con=con
    )
    # the quarantined variant was never named anywhere: found through normalization of quarantine text
    assert (
        verify_erased(lk.data_dir, lk.warehouse_url, JANE_SPELLINGS | {"JANE.DOE+other@gmail.com", JANE_CID})
        == []
    )
    assert verify_erased(lk.data_dir, lk.warehouse_url, BOB_SPELLINGS) == bob_before
    removed = result.erasure.removed
    for table in (
        "landed/stripe",
        "landed/surveys/responses",
        "landed/surveys/answers",
        "landed/forms",
        "landed/consent",
        "quarantine",
        "identity/identity_map",
        "profiles/customer_profiles",
        "segments/segment_membership",
    ):
        assert removed.get(table, 0) >= 1, table
    assert removed["landed/stripe"] == 3  # customer, charge, and the refund that only names the charge
    assert result.erasure.warehouse_removed == {"customer_profiles": 1, "audience_members": 1}
    profiles = pd.read_parquet(lk.lake_dir / catalog.table("customer_profiles").path)
    assert profiles["customer_id"].tolist() == [BOB_CID]
    assert pq.read_schema(lk.lake_dir / catalog.table("customer_profiles").path).names == list(
        profiles.columns
    )


def test_exports_rewritten_and_manifests_updated(tmp_path):
    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    subjects = resolve(con, lk.lake_dir, [request("req-e1", email="jane.doe@gmail.com")])
    erase_subjects(lk.lake_dir, lk.exports_dir, subjects, warehouse_url=lk.warehouse_url, run_id="r", con=con)
    folder = lk.exports_dir / "audiences" / "vip_email"
    text = (folder / "vip_email-20250601.csv").read_bytes().decode()
    assert JANE_CID not in text and BOB_CID in text and text.endswith("\r\n")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["rows"] == 1 and manifest["counts"]["exported"] == 1
    assert manifest["sha256"] == lake.sha256_file(folder / "vip_email-20250601.csv")
    hashed = (
        (lk.exports_dir / "audiences" / "vip_hashed" / "vip_hashed-20250601.csv").read_text().splitlines()
    )
    assert len(hashed) == 2 and BOB_CID in hashed[1]  # Jane's row went by her hash, under a stale id
    assert not (lk.exports_dir / "access_requests" / "req-a-jane.json").exists()
    assert (lk.exports_dir / "access_requests" / "req-a-bob.json").exists()


def test_only_affected_files_change_and_no_temp_files_remain(tmp_path):
    lk = build_lake(tmp_path)
    before = snapshot(lk.data_dir / "lake")
    con = lake.duckdb_connection()
    subjects = resolve(con, lk.lake_dir, [request("req-e1", email="jane.doe@gmail.com")])
    report = erase_subjects(
        lk.lake_dir, lk.exports_dir, subjects, warehouse_url=lk.warehouse_url, run_id="r", con=con
    )
    after = snapshot(lk.data_dir / "lake")
    assert after["landed/stripe/batch-b.parquet"] == before["landed/stripe/batch-b.parquet"]
    assert after["landed/forms/batch-f.parquet"] != before["landed/forms/batch-f.parquet"]
    assert "landed/stripe/batch-a.parquet" not in after  # all of its rows were Jane's: deleted
    assert "landed/privacy/batch-p.parquet" not in after
    assert not [p for p in lk.data_dir.rglob("*") if p.name.endswith(".tmp")]
    changed = {k for k in before if after.get(k) != before[k]}
    assert report.files_rewritten + report.files_deleted == len(changed)
    assert report.bytes_rewritten > 0


def test_unknown_and_invalid_requests_are_audited(tmp_path):
    lk = build_lake(tmp_path)
    before = snapshot(lk.data_dir / "lake")
    con = lake.duckdb_connection()
    rows = [request("req-x", email="nobody@nowhere.org"), request("req-bad", email="not an email")]
    subjects = resolve(con, lk.lake_dir, rows)
    assert subjects.set_index("request_id").loc["req-x", "customer_id"] is None
    handle_requests(
        lk.lake_dir, lk.exports_dir, subjects, key=KEY, warehouse_url=lk.warehouse_url, run_id="r", con=con
    )
    audit = read_audit(lk.lake_dir).set_index("request_id")
    assert audit.loc["req-x", "status"] == "nothing_found"
    assert audit.loc["req-bad", "status"] == "invalid"
    after = snapshot(lk.data_dir / "lake")
    assert {k: v for k, v in after.items() if not k.startswith("privacy/")} == before
    audit_text = pd.read_parquet(lk.lake_dir / "privacy" / "requests_audit.parquet").to_csv()
    assert "nobody@nowhere.org" not in audit_text


def test_shared_identifier_does_not_erase_the_other_person(tmp_path):
    lk = build_lake(tmp_path)
    ids_path = lk.lake_dir / "identity" / "identifiers.parquet"
    ids = pd.read_parquet(ids_path)
    shared = pd.DataFrame(
        [
            {
                "source": "survey",
                "record_id": "R_bob0000001",
                "id_type": "phone",
                "id_value": "+14155550123",
                "observed_at": ids["observed_at"].iloc[0],
            }
        ]
    )
    lake.write_parquet_atomic(pd.concat([ids, shared], ignore_index=True), ids_path)
    con = lake.duckdb_connection()
    subjects = resolve(con, lk.lake_dir, [request("req-e1", email="jane.doe@gmail.com")])
    assert ("phone", "+14155550123") in subjects.iloc[0]["shared"]
    erase_subjects(lk.lake_dir, lk.exports_dir, subjects, warehouse_url=lk.warehouse_url, run_id="r", con=con)
    responses = pd.read_parquet(lk.lake_dir / catalog.table("landed_survey_responses").path)
    assert responses["response_id"].tolist() == ["R_bob0000001"]


def test_erasure_reaches_a_held_batch_a_crash_left_behind(tmp_path):
    folder = tmp_path / "lake" / catalog.table("landed_stripe").path
    lake.write_parquet_atomic(pd.DataFrame({"email": ["a@x.com", "b@x.com"]}), folder / "stripe-1.parquet")
    held = folder / ("stripe-2.parquet" + lake.HELD_SUFFIX)
    lake.write_parquet_atomic(pd.DataFrame({"email": ["a@x.com", "c@x.com"]}), held)
    changes, _ = delete_where(
        lake.duckdb_connection(), tmp_path / "lake", lambda cols: MatchSpec("email = 'a@x.com'")
    )
    assert sorted(c.path.name for c in changes) == ["stripe-1.parquet", held.name]
    assert lake.read_frame(held)["email"].tolist() == ["c@x.com"]


def test_memory_is_handed_back_before_big_rewrites_only(tmp_path, monkeypatch):
    """A release costs temp tables a trip to disk: once before a table whose matched files are big,
    never before each of many small ones (hundreds of day folders)."""
    from uds_pipelines.lib.privacy import rewrite

    root = tmp_path / "lake"
    for day in range(3):
        folder = root / "events" / f"day=2026-01-0{day + 1}"
        lake.write_parquet_atomic(pd.DataFrame({"email": ["a@x.com", "b@x.com"]}), folder / "e.parquet")
    releases = []
    monkeypatch.setattr(rewrite.lake, "release_memory", lambda con: releases.append(con))
    spec = lambda cols: MatchSpec("email = 'a@x.com'")  # noqa: E731
    con = lake.duckdb_connection()
    assert len(delete_where(con, root, spec)[0]) == 3 and releases == []
    for day in range(3):  # matching again, with every file counted as big
        folder = root / "events" / f"day=2026-01-0{day + 1}"
        lake.write_parquet_atomic(pd.DataFrame({"email": ["a@x.com", "c@x.com"]}), folder / "e.parquet")
    monkeypatch.setattr(rewrite.lake, "RELEASE_BEFORE_BYTES", 1)
    assert len(delete_where(con, root, spec)[0]) == 3 and releases == [con] * 3


def test_rows_are_removed_row_group_by_row_group_keeping_schema_and_order(tmp_path, monkeypatch):
    from uds_pipelines.lib.privacy import rewrite

    monkeypatch.setattr(rewrite, "REWRITE_BATCH_ROWS", 64)
    path = tmp_path / "big.parquet"
    frame = pd.DataFrame(
        {"n": range(1000), "created": pd.date_range("2026-01-01", periods=1000, freq="h", tz="UTC")}
    )
    lake.write_parquet_atomic(frame, path)
    pq.write_table(pq.read_table(path), path, row_group_size=64)  # groups of 64 rows, as DuckDB writes many
    assert pq.ParquetFile(path).num_row_groups == 16
    schema, dtypes = pq.read_schema(path), pd.read_parquet(path).dtypes
    drop = np.array([0, 63, 64, 65, 127, 500, 999, 999, 5000])  # group edges, a duplicate, one past the end
    change = rewrite.remove_rows(path, drop)
    assert (change.rows_removed, change.deleted) == (7, False)
    kept = pd.read_parquet(path)
    assert kept["n"].tolist() == [n for n in range(1000) if n not in {0, 63, 64, 65, 127, 500, 999}]
    assert pq.read_schema(path).equals(schema, check_metadata=True)
    assert kept.dtypes.equals(dtypes)
    assert max(pq.ParquetFile(path).metadata.row_group(i).num_rows for i in range(16)) <= 64
    everything = rewrite.remove_rows(path, np.arange(993))
    assert everything.deleted and not path.exists()


def test_erasure_reaches_probabilistic_match_links_by_either_end(tmp_path):
    lk = build_lake(tmp_path)
    links = pd.DataFrame(
        {
            "source_l": ["form", "form"], "record_id_l": ["sub-x-1", "sub-y-1"],
            "source_r": ["survey", "survey"], "record_id_r": ["R_x1", "R_y1"],
            "match_probability": [0.999, 0.995], "followed": [True, True], "cut_by": [None, None],
            "customer_id_l": ["uds_other", BOB_CID], "customer_id_r": [JANE_CID, BOB_CID],
        }
    )  # fmt: skip
    path = lk.lake_dir / "identity" / "match_links.parquet"
    lake.write_parquet_atomic(links, path)
    con = lake.duckdb_connection()
    subjects = resolve(con, lk.lake_dir, [request("req-e1", email="jane.doe@gmail.com")])
    erase_subjects(lk.lake_dir, lk.exports_dir, subjects, warehouse_url=lk.warehouse_url, run_id="r", con=con)
    assert pd.read_parquet(path)["customer_id_l"].tolist() == [BOB_CID]
