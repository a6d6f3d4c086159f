"""The whole graph with the default retention over a Stripe history older than the retention
period: retention deletes the old raw events only after staging took their facts, and profiles
(lifetime value included) stay what they were on the next runs."""

import json
from datetime import UTC, datetime

import dagster as dg
import duckdb
import pandas as pd

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs
from uds_pipelines.lib import catalog


def _event(event_id: str, type_: str, created: datetime, obj: dict) -> dict:
    return {"id": event_id, "object": "event", "type": type_, "created": int(created.timestamp()),
            "livemode": False, "api_version": "2024-06-20", "data": {"object": obj}}  # fmt: skip


def _customer_with_charge(n: int, created: datetime, amount: int) -> list[dict]:
    ts = int(created.timestamp())
    customer = {"id": f"cus_old{n}", "object": "customer", "email": f"person{n}@example.com", "created": ts}
    charge = {"id": f"ch_old{n}", "object": "charge", "customer": f"cus_old{n}", "amount": amount,
              "amount_refunded": 0, "currency": "usd", "status": "succeeded", "paid": True, "created": ts}  # fmt: skip
    return [_event(f"evt_c{n}", "customer.created", created, customer),
            _event(f"evt_p{n}", "charge.succeeded", created, charge)]  # fmt: skip


def _profiles(data) -> list[tuple]:
    frame = pd.read_parquet(data / "lake" / catalog.table("customer_profiles").path)
    return sorted(frame[["email", "lifetime_value", "orders_count"]].itertuples(index=False, name=None))


def test_a_backfilled_history_older_than_retention_keeps_its_customers(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "inbox" / "stripe").mkdir(parents=True)
    events = _customer_with_charge(1, datetime(2022, 3, 1, tzinfo=UTC), 2500)
    events += _customer_with_charge(2, datetime(2026, 3, 1, tzinfo=UTC), 4000)
    (data / "inbox" / "stripe" / "history.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    monkeypatch.setenv("UDS_DATA_DIR", str(data))
    monkeypatch.setenv("UDS_AS_OF", "2026-11-01T00:00:00Z")  # default retention: 730 days
    job = defs().resolve_job_def(c.JOB_FULL_RUN)
    with dg.instance_for_test() as instance:
        assert job.execute_in_process(instance=instance, raise_on_error=False).success
        expected = [("person1@example.com", 25.0, 1), ("person2@example.com", 40.0, 1)]
        assert _profiles(data) == expected
        landed = (
            duckdb.connect()
            .execute(
                f"SELECT event_id FROM '{catalog.path(data / 'lake', 'landed_stripe')}/*.parquet' ORDER BY 1"
            )
            .fetchall()
        )
        assert landed == [("evt_c2",), ("evt_p2",)]  # retention ran, after staging
        assert job.execute_in_process(instance=instance, raise_on_error=False).success
        assert _profiles(data) == expected
        # a rebuild (`uds-run --rebuild`) starts again from the raw events still landed: the ones
        # retention deleted are gone from it, which is why a rebuild is for repairs only
        rebuilt = job.execute_in_process(
            instance=instance, raise_on_error=False, tags={c.REBUILD_TAG: "true"}
        )
        assert rebuilt.success
        assert _profiles(data) == expected[1:]
