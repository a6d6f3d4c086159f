"""A hand-built lake of buyers with a known purchase process and subscribers, for the stage tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.generator.purchase_process import BuyerParams, simulate_purchases
from uds_pipelines_tests.lib.profiles.helpers import columns, identity_map, write

START = datetime(2024, 1, 1, tzinfo=UTC)
AS_OF = "2025-12-31T00:00:00+00:00"
# livelier buyers than CDNOW's, so a few hundred give enough repeat buyers
BUYERS = BuyerParams(r=0.8, alpha=6.0, a=0.6, b=2.5, p=6.0, q=4.0, v=60.0)


def build_lake(root: Path, buyers: int = 300, subscribers: int = 60, seed: int = 7) -> Settings:
    """`buyers` one-off buyers (charges in USD, 104 weeks from START, simulated with BUYERS) and
    `subscribers` subscribers in EUR (a third cancelled after a few months)."""
    lake_dir = root / "lake"
    purchases = simulate_purchases(buyers, BUYERS, seed, horizon_weeks=104.0)
    charges = [
        {"charge_id": f"ch_{k}", "customer_id": f"cus_b{i}", "amount": int(round(value * 100)), "amount_refunded": 0,
         "currency": "usd", "status": "succeeded", "paid": True, "created": START + timedelta(weeks=week)}
        for k, (i, week, value) in enumerate(purchases)
    ]  # fmt: skip
    rng = np.random.default_rng(seed)
    subs = []
    for j in range(subscribers):
        created = START + timedelta(days=int(rng.integers(0, 600)))
        ended = j % 3 == 0
        canceled = created + timedelta(days=int(rng.integers(20, 200))) if ended else None
        subs.append({"subscription_id": f"sub_{j}", "customer_id": f"cus_s{j}", "status": "canceled" if ended else "active",
                     "currency": "eur", "mrr_minor": 2000 + 100 * (j % 5), "created": created, "canceled_at": canceled})  # fmt: skip
    write(lake_dir, "staging/stripe_charges.parquet", charges, columns("stripe_charges"))
    # a subscription of unknown status (no status, no end time) is not live, and left out of the fit
    subs.append({"subscription_id": "sub_unknown", "customer_id": "cus_s0", "status": None, "currency": "eur",
                 "mrr_minor": 1000, "created": START, "canceled_at": None})  # fmt: skip
    write(lake_dir, "staging/stripe_subscriptions.parquet", subs, columns("stripe_subscriptions"))
    people = {f"uds_b{i:04d}": [("stripe", f"cus_b{i}")] for i in range(buyers)}
    people |= {f"uds_s{j:04d}": [("stripe", f"cus_s{j}")] for j in range(subscribers)}
    identity_map(lake_dir, people)
    records = [{"source": "stripe", "record_id": records[0][1], "priority": 1, "observed_at": START,
                "email": f"{cid}@example.com", "deleted": False, "created_at": START, "utm_source": ""}
               for cid, records in people.items()]  # fmt: skip
    write(lake_dir, "identity/person_records.parquet", records, columns("person_records"))
    write(lake_dir, "identity/identifiers.parquet",
          [{"source": "stripe", "record_id": r["record_id"], "id_type": "email", "id_value": r["email"]} for r in records],
          columns("identifiers"))  # fmt: skip
    return Settings.from_env({"UDS_DATA_DIR": str(root), "UDS_AS_OF": AS_OF})


def read(settings: Settings, table: str) -> pd.DataFrame:
    from uds_pipelines.lib import catalog

    return pd.read_parquet(catalog.path(settings.lake_dir, table))
