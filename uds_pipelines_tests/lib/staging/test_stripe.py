"""Tests for the Stripe staging tables, built over landed events wrapped around real Stripe objects."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake, lake_views
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files
from uds_pipelines.lib.staging.stripe import build_stripe_staging

T0 = 1_700_000_000


def fx(realdata: Path, name: str) -> dict:
    return json.loads((realdata / "stripe" / f"openapi_fixture_{name}.json").read_text())


def ev(event_id: str, type_: str, created: int, obj: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "created": created,
        "type": type_,
        "livemode": False,
        "api_version": "2024-06-20",
        "data": {"object": obj},
    }


def land(tmp_path: Path, name: str, events: list[dict]) -> None:
    path = tmp_path / "inbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    result = land_stripe_files([path], tmp_path / "lake")
    assert result.records_quarantined == 0


def staged_glob(lake_dir: Path, name: str) -> str:
    return lake.parquet_glob(catalog.path(lake_dir, name))


def table(tmp_path: Path, name: str, order: str) -> list[dict]:
    rel = duckdb.connect().execute(f"SELECT * FROM '{staged_glob(tmp_path / 'lake', name)}' ORDER BY {order}")
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_customers_newest_state_wins_and_deletion(tmp_path, realdata):
    customer = fx(realdata, "customer")
    updated = copy.deepcopy(customer) | {"email": "new@example.com", "name": "Jenny Rosen"}
    updated["address"] |= {
        "country": "DE",
        "line1": "Hauptstraße 5",
        "city": "Berlin",
        "postal_code": "10115",
    }
    other = copy.deepcopy(customer) | {"id": "cus_OTHER", "email": "other@example.com"}
    # no address of its own: the shipping address is taken, whole
    other["shipping"] = {
        "name": "O",
        "address": {"line1": "1 Mill Lane", "city": "Leeds", "postal_code": "LS1"},
    }
    # updated arrives first in the file, created (older) second: file order must not matter
    land(
        tmp_path,
        "a.jsonl",
        [
            ev("evt_2", "customer.updated", T0 + 60, updated),
            ev("evt_1", "customer.created", T0, customer),
            ev("evt_3", "customer.created", T0, other),
        ],
    )
    land(
        tmp_path,
        "b.jsonl",
        [
            ev("evt_1", "customer.created", T0, customer),  # duplicate delivery
            ev("evt_9", "customer.deleted", T0 + 90, fx(realdata, "deleted_customer")),
        ],
    )
    counts = build_stripe_staging(tmp_path / "lake")
    assert counts["stripe_events"] == 4 and counts["stripe_customers"] == 2
    rows = table(tmp_path, "stripe_customers", "customer_id")
    assert (
        rows[0]["customer_id"] == "cus_OTHER"
        and rows[0]["deleted"] is False
        and rows[0]["deleted_at"] is None
    )
    main = rows[1]
    assert (main["customer_id"], main["email"], main["name"], main["country"]) == (
        "cus_QXg1o8vcGmoR32",
        "new@example.com",
        "Jenny Rosen",
        "DE",
    )
    assert main["created"] == utc(1234567890)
    address = ("address_line1", "city", "postcode")
    assert tuple(main[c] for c in address) == ("Hauptstraße 5", "Berlin", "10115")
    assert tuple(rows[0][c] for c in address) == ("1 Mill Lane", "Leeds", "LS1")
    assert main["deleted"] is True and main["deleted_at"] == utc(T0 + 90)
    assert main["updated_at"] == utc(T0 + 90)


def test_charges_and_refunds_from_both_sources(tmp_path, realdata):
    charge = fx(realdata, "charge")
    refund = fx(realdata, "refund")
    refunded = copy.deepcopy(charge) | {"amount_refunded": 100, "refunded": True, "customer": "cus_1"}
    refunded["refunds"]["data"] = [refund]
    later_refund = refund | {"status": "failed"}
    land(
        tmp_path,
        "c.jsonl",
        [
            ev("evt_r2", "refund.updated", T0 + 50, later_refund),
            ev("evt_c2", "charge.refunded", T0 + 40, refunded),
            ev("evt_c1", "charge.succeeded", T0, charge),
        ],
    )
    build_stripe_staging(tmp_path / "lake")
    [ch] = table(tmp_path, "stripe_charges", "charge_id")
    assert (ch["charge_id"], ch["customer_id"], ch["amount"], ch["amount_refunded"], ch["currency"]) == (
        "ch_1PgafuB7WZ01zgkWXYmPNZs8",
        "cus_1",
        100,
        100,
        "usd",
    )
    assert (ch["status"], ch["paid"], ch["refunded"], ch["created"]) == (
        "succeeded",
        True,
        True,
        utc(1234567890),
    )
    [rf] = table(tmp_path, "stripe_refunds", "refund_id")
    assert (rf["refund_id"], rf["charge_id"], rf["amount"], rf["currency"], rf["status"]) == (
        "re_1Pgc72B7WZ01zgkWqPvrRrPE",
        "ch_1PgafuB7WZ01zgkWXYmPNZs8",
        100,
        "usd",
        "failed",
    )


def test_invoices_paid_at_from_status_transitions(tmp_path, realdata):
    draft = fx(realdata, "invoice")
    paid = copy.deepcopy(draft) | {"status": "paid", "amount_paid": 1000, "charge": "ch_9"}
    paid["status_transitions"]["paid_at"] = T0 + 30
    land(
        tmp_path,
        "i.jsonl",
        [ev("evt_p", "invoice.paid", T0 + 30, paid), ev("evt_d", "invoice.created", T0, draft)],
    )
    build_stripe_staging(tmp_path / "lake")
    [inv] = table(tmp_path, "stripe_invoices", "invoice_id")
    assert (inv["invoice_id"], inv["customer_id"], inv["status"], inv["amount_paid"], inv["currency"]) == (
        "in_1Pgc6tB7WZ01zgkWu9fdqL6I",
        "cus_QXg1o8vcGmoR32",
        "paid",
        1000,
        "usd",
    )
    assert inv["paid_at"] == utc(T0 + 30) and inv["charge_id"] == "ch_9"
    assert inv["subscription_id"] == "subscription"  # from parent.subscription_details in this API shape


def test_subscription_mrr_normalised_to_a_month(tmp_path, realdata):
    sub = fx(realdata, "subscription")
    item = sub["items"]["data"][0]
    multi = copy.deepcopy(sub) | {"id": "sub_multi", "status": "past_due"}

    def with_price(amount: int, quantity: int, interval: str, count: int) -> dict:
        new = copy.deepcopy(item)
        new["price"]["unit_amount"], new["quantity"] = amount, quantity
        new["price"]["recurring"] = {"interval": interval, "interval_count": count}
        return new

    multi["items"]["data"] = [
        with_price(12000, 2, "year", 1),
        with_price(1000, 1, "week", 1),
        with_price(3000, 1, "month", 3),
        with_price(10, 3, "day", 1),
    ]
    land(
        tmp_path,
        "s.jsonl",
        [
            ev("evt_s1", "customer.subscription.created", T0, sub),
            ev("evt_s2", "customer.subscription.updated", T0, multi),
        ],
    )
    build_stripe_staging(tmp_path / "lake")
    rows = {r["subscription_id"]: r for r in table(tmp_path, "stripe_subscriptions", "subscription_id")}
    real = rows["sub_1Pgc6rB7WZ01zgkWNy0Cn5nw"]
    # price.recurring (month, count 1) wins over the fixture's placeholder plan.interval_count
    assert (real["mrr_minor"], real["currency"], real["status"], real["customer_id"]) == (
        2000,
        "usd",
        "active",
        "cus_QXg1o8vcGmoR32",
    )
    assert real["canceled_at"] == utc(1234567890)
    assert rows["sub_multi"]["mrr_minor"] == round(2000 + 1000 * 52 / 12 + 1000 + 30 * 365 / 12)


def test_checkout_sessions_and_consents(tmp_path, realdata):
    session = fx(realdata, "checkout_session")  # promotions null: no consent statement
    opted_in = copy.deepcopy(session) | {"id": "cs_in", "customer": "cus_A"}
    opted_in["consent"]["promotions"] = "opt_in"
    opted_in["customer_details"]["address"] |= {"line1": "2 Rue Pasteur", "city": "Lyon", "postal_code": "69001",
                                                "country": "FR"}  # fmt: skip
    opted_out = copy.deepcopy(session) | {"id": "cs_out", "customer": None, "created": None}
    opted_out["consent"]["promotions"] = "opt_out"
    opted_out["customer_details"]["email"] = "out@example.com"
    land(
        tmp_path,
        "k.jsonl",
        [
            ev("evt_k0", "checkout.session.completed", T0, session),
            ev("evt_k1", "checkout.session.completed", T0 + 1, opted_in),
            ev("evt_k2", "checkout.session.completed", T0 + 2, opted_out),
        ],
    )
    counts = build_stripe_staging(tmp_path / "lake")
    sessions = {r["session_id"]: r for r in table(tmp_path, "stripe_checkout_sessions", "session_id")}
    assert counts["stripe_checkout_sessions"] == 3
    real = sessions["cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY"]
    assert (real["customer_email"], real["promotions_consent"], real["customer_id"]) == (
        "example@example.com",
        None,
        None,
    )
    billing = ("address_line1", "city", "postcode", "country")
    assert tuple(sessions["cs_in"][c] for c in billing) == ("2 Rue Pasteur", "Lyon", "69001", "FR")
    assert tuple(real[c] for c in billing) == (None, None, None, None)
    consents = table(tmp_path, "stripe_consents", "source_record, identifier_type")
    got = [
        (c["identifier_type"], c["identifier"], c["granted"], c["captured_at"], c["source_record"])
        for c in consents
    ]
    assert got == [
        ("email", "example@example.com", True, utc(1234567890), "cs_in"),
        ("stripe_customer", "cus_A", True, utc(1234567890), "cs_in"),
        ("email", "out@example.com", False, utc(T0 + 2), "cs_out"),  # no session created: event time
    ]
    assert {(c["purpose"], c["source"], c["source_file"]) for c in consents} == {
        ("email_marketing", "stripe", "k.jsonl")
    }


def test_staging_before_anything_landed_is_empty_and_typed(tmp_path):
    counts = build_stripe_staging(tmp_path / "lake")
    assert set(counts.values()) == {0} and len(counts) == 10
    con = duckdb.connect()
    lake_views.register(con, tmp_path / "lake", ["stripe_subscriptions"])
    schema = con.execute("DESCRIBE SELECT * FROM stripe_subscriptions").fetchall()
    assert ("mrr_minor", "BIGINT") in [(c[0], c[1]) for c in schema]


def _scans(node: dict) -> set[str]:
    """The tables and files a plan node reads, its children included."""
    info = node.get("extra_info") or {}
    found = {str(info.get("Table", "")), str(info.get("Function", ""))} - {""}
    for child in node.get("children", []):
        found |= _scans(child)
    return found


def _hash_joins(node: dict) -> list[dict]:
    joins = [node] if node.get("name") == "HASH_JOIN" else []
    for child in node.get("children", []):
        joins += _hash_joins(child)
    return joins


def test_winners_objects_are_read_past_a_hash_table_of_winners_never_of_payloads(tmp_path):
    """The landed payloads must stream past the winners: a hash table of payloads ran out of memory
    at 10M events under the default limit."""
    import json

    from uds_pipelines.lib import lake
    from uds_pipelines.lib.staging import stripe_sql, stripe_tables_sql

    con = lake.duckdb_connection()
    landed = tmp_path / "landed.parquet"
    con.execute(
        f"""COPY (SELECT 'evt_' || i AS event_id, 'stripe-1.jsonl' AS source_file, i AS position,
                  TIMESTAMPTZ '2026-01-01' AS landed_at,
                  json_object('data', json_object('object', json_object('id', 'ch_' || i, 'amount', i, 'pad', repeat('x', 500))))
                      AS payload
           FROM range(100000) t(i)) TO '{landed}' (FORMAT parquet)"""
    )
    con.execute(f"CREATE TEMP VIEW _stripe_new AS SELECT * FROM read_parquet('{landed}')")
    # one winner in ten (an object's earlier events lose), and an embedded refund carrying its object
    con.execute(
        """CREATE TEMP TABLE _stripe_won_keys AS
           SELECT 'charge' AS object_type, 'ch_' || i AS object_id, 'latest' AS slot, 'evt_' || i AS event_id,
                  NULL::TIMESTAMPTZ AS event_created, 'stripe-1.jsonl' AS source_file, i AS position,
                  TIMESTAMPTZ '2026-01-01' AS landed_at, NULL::JSON AS obj
           FROM range(0, 100000, 10) t(i)
           UNION ALL SELECT 'refund', 're_1', 'latest', 'evt_5', NULL, 'stripe-1.jsonl', 5, TIMESTAMPTZ '2026-01-01',
                            '{"id": "re_1", "amount": 1}'::JSON"""
    )
    plan = json.loads(con.execute("EXPLAIN (FORMAT JSON) " + stripe_sql.WON).fetchall()[0][1])
    joins = [j for root in plan for j in _hash_joins(root)]
    assert joins, plan
    for join in joins:
        probe, build = join["children"]
        assert any("_stripe_won_keys" in s for s in _scans(build)), build
        assert not any("read_parquet" in s.lower() or "_stripe_new" in s for s in _scans(build)), build
    # each winner carries its own object's fields: the amount is the number in its id
    amount = f"CASE object_type WHEN 'charge' THEN {stripe_tables_sql.field('charge', '$.amount')} ELSE {stripe_tables_sql.field('refund', '$.amount')} END"
    rows = con.execute(f"SELECT object_id, {amount} FROM ({stripe_sql.WON}) ORDER BY 1").fetchall()
    assert len(rows) == 10_001 and all(o.split("_")[1] == a for o, a in rows)


def test_a_customer_given_as_an_id_or_expanded_is_the_same_customer(tmp_path, realdata):
    # Stripe sends `customer` as an id, or as the whole customer object when the sender expanded it
    charge = fx(realdata, "charge") | {"id": "ch_id", "customer": "cus_A"}
    expanded = fx(realdata, "charge") | {
        "id": "ch_expanded",
        "customer": fx(realdata, "customer") | {"id": "cus_B"},
    }
    odd = fx(realdata, "charge") | {"id": "ch_odd", "customer": "{not-an-object"}  # a string with a brace
    land(
        tmp_path,
        "a.jsonl",
        [ev(f"evt_{c['id']}", "charge.succeeded", T0, c) for c in (charge, expanded, odd)],
    )
    build_stripe_staging(tmp_path / "lake")
    rows = {r["charge_id"]: r["customer_id"] for r in table(tmp_path, "stripe_charges", "charge_id")}
    assert rows == {"ch_id": "cus_A", "ch_expanded": "cus_B", "ch_odd": "{not-an-object"}
