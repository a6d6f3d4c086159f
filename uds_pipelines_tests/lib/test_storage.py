"""The lake on S3-compatible object storage, against a real S3 server (moto) on loopback."""

import pandas as pd
import pytest

from uds_pipelines.lib import connection, lake, storage
from uds_pipelines.lib.config import ConfigError, Settings
from uds_pipelines.lib.privacy.rewrite import MatchSpec, delete_where
from uds_pipelines.lib.privacy.verify import verify_erased


@pytest.fixture
def root(s3_bucket, tmp_path):
    fs, bucket = s3_bucket
    settings = Settings.from_env(
        {"UDS_DATA_DIR": str(tmp_path), "UDS_LAKE_URL": f"s3://{bucket}/cdp/", "UDS_S3_ENDPOINT_URL": fs.endpoint_url}
    )
    return settings


def test_settings_put_lake_and_exports_in_the_bucket_and_locks_on_disk(root, tmp_path):
    assert storage.is_remote(root.lake_dir) and str(root.lake_dir).endswith("/cdp/lake")
    assert str(root.exports_dir).endswith("/cdp/exports")
    assert root.inbox_dir == tmp_path / "inbox"
    assert root.locks_dir == tmp_path / ".locks"


@pytest.mark.parametrize("url", ["file:///tmp/lake", "s3://", "/data/lake", "gopher://x/y"])
def test_lake_url_must_be_object_storage(url, tmp_path):
    with pytest.raises(ConfigError, match="UDS_LAKE_URL"):
        Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_LAKE_URL": url})


def test_endpoint_must_be_http(tmp_path):
    with pytest.raises(ConfigError, match="UDS_S3_ENDPOINT_URL"):
        Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_S3_ENDPOINT_URL": "127.0.0.1:9000"})


def test_writes_leave_only_the_final_object_and_duckdb_reads_it_back(root, s3_bucket):
    fs, bucket = s3_bucket
    folder = root.lake_dir / "landed" / "stripe"
    lake.write_parquet_atomic(pd.DataFrame({"event_id": ["evt_1", "evt_2"]}), folder / "a.parquet")
    con = lake.duckdb_connection()
    rows = lake.copy_query_to_parquet(con, "SELECT 'evt_3' AS event_id", folder / "b.parquet")
    assert rows == 1
    # no temp objects: the upload is the only write, and it is all or nothing
    assert sorted(fs.find(bucket)) == [f"{bucket}/cdp/lake/landed/stripe/{n}.parquet" for n in ("a", "b")]
    assert lake.parquet_row_count(folder / "a.parquet") == 2
    assert lake.read_frame(folder / "b.parquet")["event_id"].tolist() == ["evt_3"]
    # the catalog views over object storage: a folder table, one with an added column (its footers
    # are read on the lake's connection), and one never written
    forms = root.lake_dir / "landed" / "forms"
    lake.write_parquet_atomic(pd.DataFrame({"submission_id": ["s1"]}), forms / "a.parquet")
    views = connection.connect(root.lake_dir)
    assert sorted(r[0] for r in views.execute("SELECT event_id FROM landed_stripe").fetchall()) == [
        "evt_1",
        "evt_2",
        "evt_3",
    ]
    assert views.execute("SELECT submission_id, external_id FROM landed_forms").fetchall() == [("s1", None)]
    assert views.execute("SELECT count(*) FROM suppression").fetchall() == [(0,)]


def test_walk_files_is_sorted_and_skips_work_in_progress_folders(root, s3_bucket):
    fs, bucket = s3_bucket
    for key in ("lake/b/2.parquet", "lake/a/1.parquet", "lake/.landing/x.json", "lake/a/.tmp/y"):
        fs.pipe(f"{bucket}/cdp/{key}", b"data")
    seen = [storage.relative(p, root.lake_dir) for p in storage.walk_files(root.lake_dir)]
    assert seen == ["a/1.parquet", "b/2.parquet"]
    everything = [storage.relative(p, root.lake_dir) for p in storage.walk_files(root.lake_dir, include_hidden=True)]
    assert set(everything) == {".landing/x.json", "a/.tmp/y", "a/1.parquet", "b/2.parquet"}


def test_rows_are_deleted_from_objects_and_emptied_objects_removed(root, s3_bucket):
    fs, bucket = s3_bucket
    folder = root.lake_dir / "landed" / "forms"
    lake.write_parquet_atomic(pd.DataFrame({"email": ["a@x.com", "b@x.com"]}), folder / "one.parquet")
    lake.write_parquet_atomic(pd.DataFrame({"email": ["a@x.com"]}), folder / "two.parquet")
    con = lake.duckdb_connection()
    changes, _ = delete_where(con, root.lake_dir, lambda cols: MatchSpec("email = 'a@x.com'"))
    assert sorted((c.path.name, c.rows_removed, c.deleted) for c in changes) == [
        ("one.parquet", 1, False),
        ("two.parquet", 1, True),
    ]
    assert not fs.exists(f"{bucket}/cdp/lake/landed/forms/two.parquet")
    assert lake.read_frame(folder / "one.parquet")["email"].tolist() == ["b@x.com"]


def test_erasure_verification_searches_the_bucket(root, s3_bucket, tmp_path):
    fs, bucket = s3_bucket
    lake.write_parquet_atomic(pd.DataFrame({"email": ["gone@x.com"]}), root.lake_dir / "profiles" / "p.parquet")
    fs.pipe(f"{bucket}/cdp/exports/audiences/vip/2026-11-01.csv", b"customer_id,email\nc1,gone@x.com\n")
    findings = verify_erased(tmp_path, None, {"gone@x.com"}, storage_root=root.storage_root)
    where = sorted(f.path for f in findings)
    assert where == [
        f"s3://{bucket}/cdp/exports/audiences/vip/2026-11-01.csv",
        f"s3://{bucket}/cdp/lake/profiles/p.parquet",
    ]
    # without the storage root only the local data dir is searched, and it is clean
    assert verify_erased(tmp_path, None, {"gone@x.com"}) == []
