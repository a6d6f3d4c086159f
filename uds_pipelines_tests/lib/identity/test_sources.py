"""Person records: Stripe customers carry their address, else the billing address of their newest checkout;
person attributes are match keys."""

from datetime import date

import pandas as pd

from uds_pipelines.lib import catalog, connection, lake
from uds_pipelines.lib.identity.sources import (
    identifiers_sql,
    person_attributes_sql,
    person_records_sql,
)
from uds_pipelines_tests.catalog_columns import CUSTOMER_COLUMNS

CHECKOUT_COLUMNS = {
    f.name: catalog.duckdb_type(f.type) for f in catalog.table("stripe_checkout_sessions").schema
}

TS = pd.Timestamp("2026-05-01", tz="UTC")


def _write(lake_dir, name, rows, columns):
    frame = pd.DataFrame(rows)
    for column, sql_type in columns.items():
        if column not in frame:
            frame[column] = pd.Series(
                [None] * len(frame), dtype="datetime64[us, UTC]" if "TIMESTAMP" in sql_type else object
            )
    lake.write_parquet_atomic(frame, lake_dir / name)


def test_stripe_address_and_country_fall_back_to_the_newest_checkout(tmp_path):
    lake_dir = tmp_path / "lake"
    _write(lake_dir, "staging/stripe_customers.parquet", [
        {"customer_id": "cus_own", "email": "a@example.com", "phone": "07400 123456", "country": "GB",
         "address_line1": "1 High Street", "city": "Leeds", "postcode": "LS1 1AA", "created": TS},
        {"customer_id": "cus_co", "email": "b@example.com", "phone": "07400 654321", "created": TS},
        {"customer_id": "cus_none", "email": "c@example.com", "phone": "07400 111222", "created": TS},
    ], CUSTOMER_COLUMNS)  # fmt: skip
    _write(lake_dir, "staging/stripe_checkout_sessions.parquet", [
        # the own address wins over any checkout
        {"session_id": "cs_0", "customer_id": "cus_own", "created": TS, "address_line1": "9 Elm Road",
         "city": "York", "postcode": "YO1 1AA", "country": "GB"},
        {"session_id": "cs_1", "customer_id": "cus_co", "customer_email": "b@example.com", "created": TS,
         "address_line1": "2 Mill Lane", "city": "Bristol", "postcode": "BS1 1AA", "country": "GB"},
        # newer, but without an address: the older session's address is kept whole
        {"session_id": "cs_2", "customer_id": "cus_co", "customer_email": "b2@example.com",
         "created": TS + pd.Timedelta(days=1), "city": "Paris", "country": "FR"},
    ], CHECKOUT_COLUMNS)  # fmt: skip
    con = connection.connect(lake_dir, default_region="US")
    con.execute(f"CREATE TABLE records AS {person_records_sql()}")
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT record_id, email, country, address_line1, city, postcode FROM records ORDER BY 1"
        ).fetchall()
    }
    assert rows["cus_own"] == ("a@example.com", "GB", "1 High Street", "Leeds", "LS1 1AA")
    assert rows["cus_co"] == ("b@example.com", "GB", "2 Mill Lane", "Bristol", "BS1 1AA")
    assert rows["cus_none"] == ("c@example.com", None, None, None, None)
    # the checkout's country reads the national phone; without any country it stays unread (US default)
    phones = dict(
        con.execute(
            f"SELECT record_id, id_value FROM ({identifiers_sql('US', records_table='records')}) WHERE id_type = 'phone'"
        ).fetchall()
    )
    assert phones == {"cus_own": "+447400123456", "cus_co": "+447400654321"}


def test_person_attributes_are_match_keys_and_dates_follow_the_source_order():
    con = connection.connect(default_region="US")
    con.execute(
        """CREATE TABLE records AS SELECT * FROM (VALUES
            ('form', 'f1', 'Zoë', 'Müller', '05/12/1979', 'sw1a 1aa', 'München', 'Hauptstraße 5'),
            ('form', 'f2', 'Zoe', 'Muller', '1979-12-05', NULL, NULL, NULL),
            ('survey', 's1', 'Zoe', NULL, '05/12/1979', NULL, NULL, NULL),
            ('survey', 's2', NULL, NULL, '25/12/1979', NULL, NULL, NULL)
        ) t(source, record_id, first_name, last_name, date_of_birth, postcode, city, address_line1)"""
    )
    rows = con.execute(f"SELECT * FROM ({person_attributes_sql('records')}) ORDER BY record_id").fetchall()
    assert rows == [
        ("form", "f1", "zoe", "muller", date(1979, 12, 5), "SW1A1AA", "munchen", "haupt st 5"),
        ("form", "f2", "zoe", "muller", date(1979, 12, 5), None, None, None),
        ("survey", "s1", "zoe", None, None, None, None, None),  # ambiguous, and surveys declare no order
        ("survey", "s2", None, None, date(1979, 12, 25), None, None, None),
    ]


def test_without_declared_orders_only_unambiguous_dates_are_read(monkeypatch):
    from uds_pipelines.lib.identity import sources

    monkeypatch.setattr(sources, "BIRTH_DATE_ORDER", {})
    con = connection.connect(default_region="US")
    con.execute(
        "CREATE TABLE records AS SELECT *, 'Ann' AS first_name, NULL AS last_name, NULL AS postcode, NULL AS city,"
        " NULL AS address_line1 FROM (VALUES ('form', 'f1', '05/12/1979'), ('form', 'f2', '25/12/1979'))"
        " t(source, record_id, date_of_birth)"
    )
    rows = con.execute(
        f"SELECT record_id, date_of_birth FROM ({person_attributes_sql('records')}) ORDER BY 1"
    )
    assert rows.fetchall() == [("f1", None), ("f2", date(1979, 12, 25))]
