"""Event-based computed traits: YAML validation (broken ones reported and skipped), every kind
computed by the one compiled query, cart abandonment measured at as-of, and funnels."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd
import pytest
import yaml

from uds_pipelines.lib.config import CONFIG_DIR
from uds_pipelines.lib.profiles.funnels import funnel_table
from uds_pipelines.lib.profiles.traits import load_traits, parse_traits
from uds_pipelines.lib.profiles.traits_sql import LAST_EVENT, compile_traits

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _events(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    """A connection with `person_events` of (customer_id, anonymous_id, type, event, minutes, properties)."""
    frame = pd.DataFrame(
        [
            (f"m{i}", c, a, t, e, T0 + timedelta(minutes=m), None if p is None else json.dumps(p))
            for i, (c, a, t, e, m, p) in enumerate(rows)
        ],
        columns=["message_id", "customer_id", "anonymous_id", "type", "event", "timestamp", "properties"],
    )
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.register("person_events", frame)
    return con


def _traits(con, yaml_text: str, as_of: datetime) -> dict[str, dict]:
    traits, _funnels, errors = parse_traits(yaml.safe_load(yaml_text))
    assert errors == []
    compiled = compile_traits(traits, as_of)
    frame = con.execute(compiled.sql).df()
    return {row["customer_id"]: row for row in frame.to_dict("records")}


def test_broken_traits_are_reported_and_the_others_kept() -> None:
    data = {
        "traits": [
            {"name": "ok_count", "kind": "count", "event": "Order Completed"},
            {"name": "bad_kind", "kind": "median"},
            {"name": "no_property", "kind": "sum", "event": "Order Completed"},
            {"name": "email", "kind": "count"},
            {"name": "bad_window", "kind": "count", "window": "three months"},
            {"name": "half_abandoned", "kind": "abandoned", "event": "Product Added"},
            {"name": "ok_count", "kind": "count"},
            {"name": "Bad-Name", "kind": "count"},
            {"name": "typo", "kind": "count", "evnet": "x"},
            {"name": "order", "kind": "count"},  # a SQL keyword would break the profiles query
        ],
        "funnels": [{"name": "one_step", "steps": ["Product Viewed"]}],
    }
    traits, funnels, errors = parse_traits(data, reserved={"email"})
    assert [t.name for t in traits] == ["ok_count"] and funnels == []
    reasons = {(e.name, e.section): e.message for e in errors}
    assert reasons[("bad_kind", "traits")].startswith("kind must be one of")
    assert "needs 'property'" in reasons[("no_property", "traits")]
    assert reasons[("email", "traits")] == "name is already a profile column"
    assert "duration" in reasons[("bad_window", "traits")]
    assert "followed_by" in reasons[("half_abandoned", "traits")]
    assert reasons[("ok_count", "traits")] == "duplicate name"
    assert reasons[("Bad-Name", "traits")].startswith("name must match")
    assert reasons[("typo", "traits")] == "unknown keys: evnet"
    assert reasons[("order", "traits")] == "name is a SQL keyword: pick another (e.g. order_count)"
    assert "at least two" in reasons[("one_step", "funnels")]


def test_the_shipped_traits_file_is_valid() -> None:
    traits, funnels, errors = load_traits(CONFIG_DIR / "traits.yaml", reserved={"last_seen_at"})
    assert errors == []
    names = {t.name for t in traits}
    assert {"orders_completed_90d", "cart_abandoned_at"} <= names
    assert [f.name for f in funnels] == ["checkout"]


TRAITS = """
traits:
  - {name: orders_90d, kind: count, event: Order Completed, window: 90d}
  - {name: revenue, kind: sum, event: Order Completed, property: [revenue, total]}
  - {name: avg_order, kind: avg, event: Order Completed, property: revenue}
  - {name: biggest, kind: max, event: Order Completed, property: revenue}
  - {name: smallest, kind: min, event: Order Completed, property: revenue}
  - {name: first_sku, kind: first_value, event: Order Completed, property: products.0.sku}
  - {name: last_category, kind: last_value, event: Product Viewed, property: category}
  - {name: first_order_at, kind: first_timestamp, event: Order Completed}
  - {name: last_page_at, kind: last_timestamp, type: page}
  - {name: top_category, kind: most_frequent, event: Product Viewed, property: category}
  - {name: categories, kind: unique_list, event: Product Viewed, property: category}
  - {name: category_count, kind: unique_count, event: Product Viewed, property: category}
"""


def test_every_kind_per_person_in_one_query() -> None:
    day = 24 * 60
    con = _events([
        ("c1", "a", "track", "Order Completed", -100 * day, {"revenue": 5, "products": [{"sku": "OLD"}]}),
        ("c1", "a", "track", "Order Completed", -10 * day, {"total": 20}),  # revenue from `total`
        ("c1", "a", "track", "Order Completed", -1 * day, {"revenue": 30, "products": [{"sku": "NEW"}]}),
        ("c1", "a", "track", "Order Completed", 5, {"revenue": 1000}),  # after as-of: left out
        ("c1", "a", "track", "Product Viewed", 1, {"category": "Games"}),
        ("c1", "a", "track", "Product Viewed", 2, {"category": "Books"}),
        ("c1", "a", "track", "Product Viewed", 3, {"category": "Books"}),
        ("c1", "a", "page", None, -5, None),
        ("c2", "b", "track", "Product Viewed", 0, {"category": "Toys"}),
        ("c2", "b", "track", "Product Viewed", 1, {"category": "Games"}),  # a tie: the smaller wins
    ])  # fmt: skip
    got = _traits(con, TRAITS, as_of=T0 + timedelta(minutes=4))
    c1, c2 = got["c1"], got["c2"]
    assert c1["orders_90d"] == 2  # the one 100 days back is outside the window
    assert c1["revenue"] == 55 and c1["avg_order"] == pytest.approx(17.5)  # avg of the two with revenue
    assert (c1["biggest"], c1["smallest"]) == (30, 5)
    assert c1["first_sku"] == "OLD" and c1["last_category"] == "Books"
    assert c1["first_order_at"] == T0 - timedelta(days=100)
    assert c1["last_page_at"] == T0 - timedelta(minutes=5)
    assert c1["top_category"] == "Books" and c2["top_category"] == "Games"
    assert c1["categories"] == '["Books","Games"]' and c1["category_count"] == 2
    assert c2["orders_90d"] == 0 and pd.isna(c2["revenue"])
    assert c1[LAST_EVENT] == T0 + timedelta(minutes=3)  # the newest event up to as-of


ABANDONED = """
traits:
  - {name: cart_abandoned_at, kind: abandoned, event: Product Added, followed_by: Order Completed, within: 1h}
"""


def test_a_cart_is_abandoned_once_the_wait_has_passed_without_an_order() -> None:
    con = _events([
        ("ordered", "a", "track", "Product Added", 0, {}),
        ("ordered", "a", "track", "Order Completed", 30, {}),
        ("left", "b", "track", "Product Added", 0, {}),
        ("left_then_back", "c", "track", "Product Added", 0, {}),
        ("left_then_back", "c", "track", "Order Completed", 20, {}),
        ("left_then_back", "c", "track", "Product Added", 40, {}),  # a new cart, left
        ("recent", "d", "track", "Product Added", 50, {}),
    ])  # fmt: skip
    at_75 = _traits(con, ABANDONED, as_of=T0 + timedelta(minutes=75))
    abandoned = {c: r["cart_abandoned_at"] for c, r in at_75.items() if not pd.isna(r["cart_abandoned_at"])}
    assert abandoned == {"left": T0}  # "left_then_back" and "recent": less than an hour ago
    at_120 = _traits(con, ABANDONED, as_of=T0 + timedelta(minutes=120))
    abandoned = {c for c, r in at_120.items() if not pd.isna(r["cart_abandoned_at"])}
    assert abandoned == {"left", "left_then_back", "recent"}
    at_10 = _traits(con, ABANDONED, as_of=T0 + timedelta(minutes=10))
    assert all(pd.isna(r["cart_abandoned_at"]) for r in at_10.values())


def test_funnel_steps_count_people_in_order_known_or_not() -> None:
    steps = ["Product Viewed", "Product Added", "Order Completed"]
    con = _events([
        ("c1", "a", "track", "Product Viewed", 0, {}),
        ("c1", "a", "track", "Product Added", 1, {}),
        ("c1", "a", "track", "Order Completed", 2, {}),
        ("c2", "b", "track", "Product Added", 0, {}),  # added before viewing: not step 2
        ("c2", "b", "track", "Product Viewed", 1, {}),
        (None, "anon-1", "track", "Product Viewed", 0, {}),  # a visitor not known yet
        (None, "anon-1", "track", "Product Added", 3, {}),
        ("c3", "d", "track", "Order Completed", 0, {}),  # never viewed anything
    ])  # fmt: skip
    _t, funnels, errors = parse_traits({"funnels": [{"name": "buy", "steps": steps}]})
    assert errors == []
    table = funnel_table(con, funnels, T0 + timedelta(hours=1))
    assert list(table["people"]) == [3, 2, 1]
    assert list(table["conversion_from_start"]) == [1.0, 0.6667, 0.3333]
    assert (
        pd.isna(table["conversion_from_previous"].iloc[0])
        and table["conversion_from_previous"].iloc[2] == 0.5
    )


def test_a_funnel_step_needs_an_event_after_the_previous_steps_own() -> None:
    # one view cannot be both steps of view -> view; two views at the same minute can
    con = _events([
        ("c1", "a", "track", "Product Viewed", 0, {}),
        ("c2", "b", "track", "Product Viewed", 0, {}),
        ("c2", "b", "track", "Product Viewed", 5, {}),
        ("c3", "c", "track", "Product Viewed", 7, {}),
        ("c3", "c", "track", "Product Viewed", 7, {}),
    ])  # fmt: skip
    _t, funnels, errors = parse_traits({"funnels": [{"name": "again", "steps": ["Product Viewed"] * 2}]})
    assert errors == []
    assert list(funnel_table(con, funnels, T0 + timedelta(hours=1))["people"]) == [3, 2]


def test_last_value_on_a_timestamp_tie_is_the_greater_message_id() -> None:
    # two calls in the same millisecond: the later messageId decides, on every run
    con = _events([
        ("c1", "a", "track", "Product Viewed", 0, {"category": "books"}),  # message m0
        ("c1", "a", "track", "Product Viewed", 0, {"category": "music"}),  # message m1
    ])  # fmt: skip
    traits = _traits(
        con,
        "traits:\n  - {name: last_category, kind: last_value, event: Product Viewed, property: category}\n",
        T0 + timedelta(hours=1),
    )
    assert traits["c1"]["last_category"] == "music"


def test_a_bad_traits_file_is_one_reported_error_never_a_crash(tmp_path) -> None:
    cases = {
        "latin1.yaml": "traits:\n  - {name: caf\xe9, kind: count}\n".encode("latin-1"),  # wrong encoding
        "truncated.yaml": b"traits:\n  - {name: a, kind: cou",
        "empty.yaml": b"",
        "list.yaml": b"- a\n- b\n",
        "huge.yaml": b"traits: [" + b"{name: x, kind: count}, " * 50_000 + b"]\n",  # all but one duplicates
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        traits, funnels, errors = load_traits(tmp_path / name)
        if name == "huge.yaml":
            assert [t.name for t in traits] == ["x"] and len(errors) == 49_999
            continue
        assert traits == [] and funnels == [] and len(errors) == 1 and errors[0].section == "file", name
    _t, _f, errors = load_traits(tmp_path / "missing.yaml")
    assert "cannot read missing.yaml" in errors[0].message
