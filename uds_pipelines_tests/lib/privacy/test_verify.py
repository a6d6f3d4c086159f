import pandas as pd
import sqlalchemy as sa

from uds_pipelines.lib import lake
from uds_pipelines.lib.privacy import verify_erased
from uds_pipelines.lib.privacy.verify import LEFTOVER, PENDING_INBOX

SECRET = "Planted.Person@Example.com"


def _data_dir(tmp_path):
    data = tmp_path / "data"
    (data / "exports" / "audiences" / "a").mkdir(parents=True)
    (data / "exports" / "audiences" / "a" / "a-20250101.csv").write_text(
        "customer_id,email\r\nuds_1,ok@example.com\r\n"
    )
    lake.write_parquet_atomic(
        pd.DataFrame({"id": [1, 2], "note": ["fine", "nothing"]}), data / "lake" / "misc" / "t.parquet"
    )
    url = f"sqlite:///{data / 'warehouse.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        pd.DataFrame({"customer_id": ["uds_1"], "email": ["ok@example.com"]}).to_sql(
            "customer_profiles", conn, index=False
        )
    engine.dispose()
    return data, url


def test_clean_data_dir_has_no_findings(tmp_path):
    data, url = _data_dir(tmp_path)
    assert verify_erased(data, url, {SECRET}) == []


def test_planted_leftovers_are_found_without_revealing_them(tmp_path):
    data, url = _data_dir(tmp_path)
    with open(data / "exports" / "audiences" / "a" / "a-20250101.csv", "a") as handle:
        handle.write("uds_2,planted.person@example.com\r\n")
    lake.write_parquet_atomic(
        pd.DataFrame({"id": [1, 2, 3], "note": ["fine", f"contact {SECRET.upper()} now", None]}),
        data / "lake" / "misc" / "t.parquet",
    )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO customer_profiles VALUES ('uds_2', :e)"), {"e": SECRET})
    engine.dispose()
    (data / "inbox" / "forms").mkdir(parents=True)
    (data / "inbox" / "forms" / "late.jsonl").write_text('{"email": "planted.person@example.com"}\n')
    (data / ".uds_key").write_text("planted.person@example.com")  # never searched
    findings = verify_erased(data, url, {SECRET})
    by_path = {f.path: f for f in findings}
    assert by_path["exports/audiences/a/a-20250101.csv"].kind == LEFTOVER
    assert by_path["lake/misc/t.parquet"].detail == "parquet column note: 1 row(s)"
    assert by_path["warehouse:customer_profiles"].detail == "column email: 1 row(s)"
    assert by_path["inbox/forms/late.jsonl"].kind == PENDING_INBOX
    assert ".uds_key" not in by_path
    for finding in findings:
        assert "planted" not in (finding.path + finding.detail).lower()


def test_longer_address_is_not_a_false_positive(tmp_path):
    data, url = _data_dir(tmp_path)
    (data / "exports" / "other.csv").write_text(
        "email\r\nxplanted.person@example.com\r\nplanted.person@example.community\r\n"
    )
    assert verify_erased(data, url, {SECRET}) == []


def test_a_file_gone_since_the_walk_counts_nothing_towards_a_table_s_size(tmp_path):
    """The scan sizes each table to decide whether to hand memory back first; a live writer's temp
    file may be gone by then, which must not stop the verification."""
    from uds_pipelines.lib.privacy import verify

    kept = tmp_path / "a.parquet"
    kept.write_bytes(b"x" * 1000)
    assert verify._local_bytes([kept, tmp_path / "gone.parquet.tmp"]) == 1000
