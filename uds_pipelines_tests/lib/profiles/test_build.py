"""Profile traits on hand-built lakes: one payment counted once, re-sent records counted once,
and a shared identifier deciding nobody's consent."""

import pandas as pd

from uds_pipelines.lib import catalog, connection
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.consent.stage import identifier_customers_sql
from uds_pipelines_tests.catalog_columns import CUSTOMER_COLUMNS, FORM_COLUMNS
from uds_pipelines_tests.lib.profiles.helpers import build as _profiles
from uds_pipelines_tests.lib.profiles.helpers import write as _write

TS = pd.Timestamp("2026-05-01", tz="UTC")


def test_charge_and_its_invoice_are_one_order_even_without_a_charge_link(tmp_path):
    lake_dir = tmp_path / "lake"
    _write(
        lake_dir,
        "staging/stripe_customers.parquet",
        [{"customer_id": "cus_1", "email": "a@example.com", "created": TS}],
        CUSTOMER_COLUMNS,
    )
    _write(lake_dir, "staging/stripe_charges.parquet", [{"charge_id": "ch_1", "customer_id": "cus_1", "invoice_id": "in_1",
           "amount": 1000, "amount_refunded": 250, "currency": "usd", "status": "succeeded", "paid": True, "created": TS}])  # fmt: skip
    _write(lake_dir, "staging/stripe_invoices.parquet", [
        {"invoice_id": "in_1", "customer_id": "cus_1", "charge_id": None, "amount_paid": 1000, "currency": "usd",
         "status": "paid", "paid_at": TS, "created": TS},
        {"invoice_id": "in_2", "customer_id": "cus_1", "charge_id": None, "amount_paid": 500, "currency": "usd",
         "status": "paid", "paid_at": TS, "created": TS},
    ])  # fmt: skip
    _write(lake_dir, catalog.table("identity_map").path, [{"source": "stripe", "record_id": "cus_1", "customer_id": "uds_1"}])
    profiles, _ = _profiles(lake_dir)
    # ch_1 pays in_1 (7.50 after the refund); in_2 was paid without a charge in our data
    assert profiles.loc["uds_1", "lifetime_value"] == 12.5
    assert profiles.loc["uds_1", "orders_count"] == 2


def test_a_resent_form_submission_is_one_record(tmp_path):
    lake_dir = tmp_path / "lake"
    row = {"submission_id": "s1", "email": "a@example.com", "submitted_at": TS, "first_name": "Ann"}
    _write(lake_dir, "landed/forms/forms-aaa.parquet", [row], FORM_COLUMNS)
    _write(lake_dir, "landed/forms/forms-bbb.parquet", [row], FORM_COLUMNS)
    _write(lake_dir, catalog.table("identity_map").path, [{"source": "form", "record_id": "s1", "customer_id": "uds_1"}])
    profiles, con = _profiles(lake_dir)
    assert con.execute("SELECT count(*) FROM records").fetchone()[0] == 1
    assert profiles.loc["uds_1", "forms_count"] == 1


def test_identifier_held_by_several_people_maps_to_none_of_them(tmp_path):
    lake_dir = tmp_path / "lake"
    _write(lake_dir, "identity/identifiers.parquet", [
        {"source": "form", "record_id": "f1", "id_type": "email", "id_value": "test@test.com"},
        {"source": "form", "record_id": "f2", "id_type": "email", "id_value": "test@test.com"},
        {"source": "form", "record_id": "f1", "id_type": "email", "id_value": "ann@example.com"},
    ])  # fmt: skip
    _write(lake_dir, catalog.table("identity_map").path, [
        {"source": "form", "record_id": "f1", "customer_id": "uds_1"},
        {"source": "form", "record_id": "f2", "customer_id": "uds_2"},
    ])  # fmt: skip
    settings = Settings.from_env({"UDS_DATA_DIR": str(tmp_path)})
    con = connection.connect(lake_dir, default_region=settings.default_region)
    rows = con.execute(
        f"SELECT * FROM {identifier_customers_sql()} WHERE identifier_type = 'email'"
    ).fetchall()
    assert rows == [("email", "ann@example.com", "uds_1")]
