import pandas as pd
import pytest

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.normalize import register_duckdb_udfs
from uds_pipelines.lib.privacy import (
    add_to_suppression,
    filter_suppressed,
    register_suppression,
    suppressed_sql,
    suppression_hash,
    suppression_hashes,
)
from uds_pipelines.lib.privacy.suppression import load_suppression
from uds_pipelines_tests.lib.privacy.helpers import request, resolve
from uds_pipelines_tests.lib.privacy.lakefixture import JANE_SPELLINGS, build_lake

KEY = b"k" * 32


def _suppress_jane(lk, con):
    subjects = resolve(con, lk.lake_dir, [request("req-e1", email="jane.doe@gmail.com")])
    return add_to_suppression(lk.lake_dir, suppression_hashes(subjects, KEY))


def test_hashes_never_hold_the_identifier(tmp_path):
    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    added = _suppress_jane(lk, con)
    stored = load_suppression(lk.lake_dir)
    assert added == len(stored) >= 5
    assert set(stored.columns) == {"id_type", "id_hash", "request_id", "added_at"}
    text = stored.to_csv().lower()
    for value in JANE_SPELLINGS | {"janedoe@gmail.com", "r_jane000001", "sub-jane-0001"}:
        assert value.lower() not in text
    assert ("email", suppression_hash("janedoe@gmail.com", KEY)) in set(
        zip(stored["id_type"], stored["id_hash"], strict=True)
    )
    assert suppression_hash("janedoe@gmail.com", b"other") != suppression_hash("janedoe@gmail.com", KEY)
    assert _suppress_jane(lk, con) == 0  # idempotent


def test_later_records_of_suppressed_people_are_dropped(tmp_path):
    lk = build_lake(tmp_path)
    _suppress_jane(lk, lake.duckdb_connection())
    incoming = pd.DataFrame(
        [
            {
                "submission_id": "s1",
                "email": "Jane.Doe+promo@gmail.com",
                "phone": None,
                "country": "US",
                "fields_json": "{}",
                "position": 1,
            },
            {
                "submission_id": "s2",
                "email": "carl@example.org",
                "phone": "415-555-0123",
                "country": "US",
                "fields_json": "{}",
                "position": 2,
            },
            {
                "submission_id": "s3",
                "email": None,
                "phone": None,
                "country": None,
                "fields_json": '{"e": "JANEDOE@gmail.com"}',
                "position": 3,
            },
            {
                "submission_id": "s4",
                "email": "carl@example.org",
                "phone": None,
                "country": "US",
                "fields_json": "{}",
                "position": 4,
            },
        ]
    )
    kept, dropped = filter_suppressed(
        incoming, key=KEY, lake_dir=lk.lake_dir, source="form", source_file="f.jsonl"
    )
    assert kept["submission_id"].tolist() == ["s4"]
    assert len(kept) + len(dropped) == len(incoming)
    assert [(q.position, q.reason, q.raw, q.source_file) for q in dropped] == [
        (1, "suppressed", None, "f.jsonl"),
        (2, "suppressed", None, "f.jsonl"),
        (3, "suppressed", None, "f.jsonl"),
    ]


def test_stripe_events_by_customer_and_duckdb_predicate(tmp_path):
    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    _suppress_jane(lk, con)
    events = pd.read_parquet(lk.lake_dir / catalog.table("landed_stripe").path)
    kept, dropped = filter_suppressed(events, key=KEY, lake_dir=lk.lake_dir, source="stripe")
    assert set(kept["customer_ref"].dropna()) == {"cus_BOB0000000001"}
    assert (
        len(dropped) == 2
    )  # the refund names no customer: it is erased, but cannot be told apart at landing
    register_suppression(con, KEY, lk.lake_dir)
    con.register("incoming", pd.DataFrame({"email": ["JANE.DOE@gmail.com", "bob.smith@example.com", None]}))
    register_duckdb_udfs(con)
    predicate = suppressed_sql("email", "uds_email_key(email)")
    rows = con.execute(
        f"SELECT email FROM incoming WHERE NOT {predicate} ORDER BY email NULLS LAST"
    ).fetchall()
    assert rows == [("bob.smith@example.com",), (None,)]


def test_nothing_suppressed_keeps_everything(tmp_path):
    frame = pd.DataFrame({"email": ["a@b.com"], "position": [1]})
    kept, dropped = filter_suppressed(frame, key=KEY, lake_dir=tmp_path, source="form")
    assert len(kept) == 1 and dropped == []


def test_excluded_customers_are_hashed_in_duckdb_once_however_many_queries_read_them(tmp_path, monkeypatch):
    """Every audience of a run reads the excluded customers: each profile's identifiers are keyed-
    hashed once per stage (a temp table), by DuckDB, never by a Python call per value."""
    from uds_pipelines.lib.privacy import exclusions, suppression

    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    register_duckdb_udfs(con)
    _suppress_jane(lk, con)
    calls = []
    hashed = suppression._memo_hash
    monkeypatch.setattr(
        suppression, "_memo_hash", lambda key, value: calls.append(value) or hashed(key, value)
    )
    excluded = exclusions.excluded_customers_sql(con, lk.lake_dir, KEY)
    assert con.execute(f"SELECT count(*) FROM {excluded}").fetchone()[0] == 1
    con.execute("DROP TABLE _uds_suppression")  # the list is read once, into the excluded table
    for _audience in range(3):
        found = con.execute(f"SELECT customer_id FROM {excluded} AS x").fetchall()
        assert len(found) == 1
    assert calls == []


def test_excluded_customers_among_a_relation_are_only_those_in_it(tmp_path):
    """A stage that reads only some customers (segment or audience members) checks only them: a
    suppressed customer outside the relation is not listed, one inside it is."""
    from uds_pipelines.lib.privacy import exclusions

    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    register_duckdb_udfs(con)
    _suppress_jane(lk, con)
    everyone = exclusions.excluded_customers_sql(con, lk.lake_dir, KEY)
    (jane,) = [row[0] for row in con.execute(f"SELECT customer_id FROM {everyone}").fetchall()]
    others = con.execute(
        "SELECT customer_id FROM customer_profiles WHERE customer_id <> ?", [jane]
    ).fetchall()
    assert others  # the lake has someone besides her
    con.execute(
        "CREATE TEMP TABLE members AS SELECT customer_id FROM customer_profiles WHERE customer_id <> ?",
        [jane],
    )
    listed = exclusions.excluded_customers_sql(con, lk.lake_dir, KEY, among="members")
    assert con.execute(f"SELECT count(*) FROM {listed}").fetchone()[0] == 0
    con.execute("INSERT INTO members VALUES (?)", [jane])
    listed = exclusions.excluded_customers_sql(con, lk.lake_dir, KEY, among="members")
    assert con.execute(f"SELECT customer_id FROM {listed}").fetchall() == [(jane,)]


@pytest.mark.parametrize("key", [KEY, b"k" * 65, b""])
def test_the_sql_hmac_is_the_python_one(tmp_path, key):
    """`uds_hmac` (DuckDB's sha256, RFC 2104) gives `suppression_hash`'s digests, whatever the key's
    length (a key past 64 bytes is hashed first) and for any text, NULL staying NULL."""
    from uds_pipelines.lib.privacy import suppression

    con = lake.duckdb_connection()
    suppression._register_hmac(con, key)
    values = ["janedoe@gmail.com", "", "+14155550100", "Zoë 🌟 ñ", "x" * 500, None]
    got = [row[0] for row in con.execute("SELECT uds_hmac(v) FROM unnest(?) t(v)", [values]).fetchall()]
    assert got == [None if v is None else suppression_hash(v, key) for v in values]
    text = " ".join(
        con.execute(
            "SELECT macro_definition FROM duckdb_functions() WHERE function_name = 'uds_hmac'"
        ).fetchall()[0]
    )
    assert (not key or key.hex() not in text) and bytes(
        b ^ 0x36 for b in key.ljust(64, b"\0")
    ).hex() not in text
