"""A mixed-currency lake (USD, EUR, GBP, JPY and CHF, which has no rate) and its hand-worked figures.

Rates to USD as of AS_OF: EUR 1.158, GBP 1.329, JPY 0.00652 (a JPY amount is whole yen: Stripe's
1500 is 1,500 yen, about ten dollars). CHF has no rate, so every person paying in CHF has no
reporting figure, even when they also paid in USD.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import catalog, connection, lake_views
from uds_pipelines.lib.identity.sources import person_records_sql
from uds_pipelines_tests.catalog_columns import CUSTOMER_COLUMNS, FORM_COLUMNS
from uds_pipelines_tests.lib.profiles.helpers import columns, identity_map, write

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
RATES_CSV = """currency,rate,date
USD,1,2026-10-30
EUR,1.158,2026-10-30
GBP,1.329,2026-10-30
JPY,0.00652,2026-10-30
JPY,0.00700,2026-11-20
"""
RATES = {"usd": 1.0, "eur": 1.158, "gbp": 1.329, "jpy": 0.00652}

# person -> [(currency, amount in minor units)]
CHARGES = {
    "usd600": [("usd", 60000)],
    "usd50": [("usd", 5000)],
    "eur250_gbp100": [("eur", 25000), ("gbp", 10000)],
    "gbp60": [("gbp", 6000)],
    "jpy1500": [("jpy", 1500)],
    "jpy100k": [("jpy", 100000)],
    "chf100": [("chf", 10000)],
    "usd20_chf5": [("usd", 2000), ("chf", 500)],
}
NEVER_PAID = "never_paid"

# lifetime_value_reporting in USD, worked out by hand (None: a currency without a rate)
REPORTING = {
    "usd600": 600.0,
    "usd50": 50.0,
    "eur250_gbp100": 422.4,  # 250 * 1.158 + 100 * 1.329 = 289.50 + 132.90
    "gbp60": 79.74,  # 60 * 1.329
    "jpy1500": 9.78,  # 1500 * 0.00652, not 15.00 yen times anything
    "jpy100k": 652.0,
    "chf100": None,
    "usd20_chf5": None,  # USD converts, CHF does not: no partial sum
    NEVER_PAID: 0.0,
}


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def mixed_currency_lake(lake_dir: Path) -> Path:
    """Staging, person records and the identity map of the people above; returns `lake_dir`."""
    write(lake_dir, catalog.table("stripe_customers").path, [
        {"customer_id": f"cus_{person}", "email": f"{person}@example.com", "created": ts("2026-01-05")}
        for person in CHARGES
    ], CUSTOMER_COLUMNS)  # fmt: skip
    write(lake_dir, catalog.table("stripe_charges").path, [
        {"charge_id": f"ch_{person}_{currency}", "customer_id": f"cus_{person}", "amount": amount,
         "amount_refunded": 0, "currency": currency, "status": "succeeded", "paid": True,
         "created": ts("2026-10-01")}
        for person, charges in CHARGES.items() for currency, amount in charges
    ], columns("stripe_charges"))  # fmt: skip
    write(lake_dir, catalog.table("landed_forms").path + "/forms.parquet", [
        {"submission_id": "f_never", "email": "never@example.com", "submitted_at": ts("2026-10-02")}
    ], FORM_COLUMNS)  # fmt: skip
    people = {person: [("stripe", f"cus_{person}")] for person in CHARGES}
    identity_map(lake_dir, people | {NEVER_PAID: [("form", "f_never")]})
    # every profile has an identifier behind it (the profiles asset's blocking check)
    write(lake_dir, catalog.table("identifiers").path, [
        {"source": "stripe", "record_id": f"cus_{person}", "id_type": "stripe_customer", "id_value": f"cus_{person}",
         "observed_at": ts("2026-01-05")} for person in CHARGES
    ] + [{"source": "form", "record_id": "f_never", "id_type": "email", "id_value": "never@example.com",
          "observed_at": ts("2026-10-02")}], columns("identifiers"))  # fmt: skip
    con = connection.connect(lake_dir, default_region="US")
    try:
        lake_views.write_query(con, lake_dir, "person_records", person_records_sql())
    finally:
        con.close()
    return lake_dir
