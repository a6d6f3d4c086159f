"""Segments: YAML validation, membership over real Parquet, RFM scores and history across runs."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from uds_pipelines.lib import catalog, lake, lake_views
from uds_pipelines.lib.config import CONFIG_DIR
from uds_pipelines.lib.profiles.rfm import add_rfm_scores
from uds_pipelines.lib.segments import (
    changes_since_sql,
    compute_membership,
    load_segments,
    parse_segments,
    write_membership,
)
from uds_pipelines_tests.lib.segments.helpers import AS_OF, write_profiles

DAY = pd.Timedelta(days=1)


@pytest.fixture
def con():
    connection = lake.duckdb_connection(memory_limit="512MB")
    yield connection
    connection.close()


def _members(con, table: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for customer, segment in con.execute(f"SELECT customer_id, segment FROM {table}").fetchall():
        out.setdefault(segment, set()).add(customer)
    return out


def _profiles(tmp_path):
    return write_profiles(
        tmp_path / "profiles.parquet",
        [
            # Two orders, last one 120 days ago: at risk; big spender.
            {
                "customer_id": "A",
                "orders_count": 2,
                "lifetime_value": 900.0,
                "last_order_at": AS_OF - 120 * DAY,
                "first_order_at": AS_OF - 400 * DAY,
                "nps_latest": 9,
                "cart_abandoned_at": AS_OF - 30 * DAY,  # too long ago for cart_abandoners
                "churn_risk": "high",
                "predicted_clv_12m_reporting": 300.0,
            },
            # One recent order and new.
            {
                "customer_id": "B",
                "orders_count": 1,
                "lifetime_value": 20.0,
                "first_seen_at": AS_OF - 5 * DAY,
                "last_order_at": AS_OF - 2 * DAY,
                "first_order_at": AS_OF - 2 * DAY,
                "nps_latest": 3,
                "cart_abandoned_at": AS_OF - 1 * DAY,
            },
            # Never purchased, passive NPS.
            {"customer_id": "C", "nps_latest": 7, "first_name": "Zed"},
            # Seen "in the future" relative to as_of: not new.
            {"customer_id": "D", "first_seen_at": AS_OF + 5 * DAY},
        ],
    )


def test_shipped_segments_load_and_compute(con, tmp_path):
    segments, errors = load_segments(CONFIG_DIR / "segments.yaml")
    assert errors == []
    names = {s.name for s in segments}
    assert {
        "high_value",
        "at_risk",
        "new_customers",
        "never_purchased",
        "promoters",
        "detractors",
        "champions",
        "loyal",
        "rfm_at_risk",
        "hibernating",
        "cart_abandoners",
        "likely_to_churn",
        "high_predicted_value",
    } <= names
    profiles = add_rfm_scores(con, _profiles(tmp_path), AS_OF.to_pydatetime())
    result = compute_membership(con, segments, profiles, AS_OF.to_pydatetime())
    assert result.errors == []
    members = _members(con, result.membership)
    assert members["high_value"] == {"A"}
    assert members["at_risk"] == {"A"}
    assert members["new_customers"] == {"B"}
    assert members["never_purchased"] == {"C", "D"}
    assert members["promoters"] == {"A"}
    assert members["detractors"] == {"B"}
    assert members["cart_abandoners"] == {"B"}
    assert members["likely_to_churn"] == {"A"} and members["high_predicted_value"] == {"A"}
    assert result.counts["champions"] == len(members.get("champions", set()))
    entered = {r[0] for r in con.execute(f"SELECT DISTINCT entered_at FROM {result.membership}").fetchall()}
    assert entered == {AS_OF}


def test_bad_segment_names_segment_and_column_others_still_compute(con, tmp_path):
    segments, errors = parse_segments(
        {
            "segments": [
                {"name": "big", "where": "lifetime_value > 100"},
                {"name": "typo", "where": "lifetime_valu > 100"},
                {"name": "not_boolean", "where": "orders_count + 1"},
                {"name": "runtime_fail", "where": "CAST(first_name AS INTEGER) = 1"},
                {"name": "Bad Name", "where": "true"},
                {"name": "big", "where": "true"},
                {"name": "empty", "where": ""},
                {"name": "two", "where": "true; DROP TABLE x"},
                {"name": "mystery_fn", "where": "no_such_fn(orders_count)"},
            ]
        }
    )
    assert [s.name for s in segments] == ["big", "typo", "not_boolean", "runtime_fail", "mystery_fn"]
    assert {e.name for e in errors} == {"Bad Name", "big", "empty", "two"}
    result = compute_membership(con, segments, _profiles(tmp_path), AS_OF.to_pydatetime())
    by_name = {e.name: e.message for e in result.errors}
    assert set(by_name) == {"typo", "not_boolean", "runtime_fail", "mystery_fn"}
    assert "lifetime_valu" in by_name["typo"] and "unknown column" in by_name["typo"]
    assert "not a boolean" in by_name["not_boolean"]
    assert "no_such_fn" in by_name["mystery_fn"]
    assert "Zed" not in by_name["runtime_fail"] and "convert" in by_name["runtime_fail"].lower()
    assert result.evaluated == ["big"]
    assert _members(con, result.membership) == {"big": {"A"}}


def test_unreadable_yaml_is_an_error_not_a_raise(tmp_path):
    path = tmp_path / "segments.yaml"
    path.write_text("segments: [ {name: x, where: ")
    segments, errors = load_segments(path)
    assert segments == [] and errors[0].name == "<file>"
    segments, errors = load_segments(tmp_path / "missing.yaml")
    assert segments == [] and len(errors) == 1


def test_rfm_scores_are_quintiles_over_buyers(con, tmp_path):
    rows = [
        {
            "customer_id": f"P{i:02d}",
            "orders_count": i + 1,
            "lifetime_value": float(10 * (i + 1)),
            "last_order_at": AS_OF - (50 - i) * DAY,
        }
        for i in range(50)
    ] + [{"customer_id": "NEVER"}]
    sql = add_rfm_scores(con, write_profiles(tmp_path / "p.parquet", rows), AS_OF.to_pydatetime())
    frame = con.sql(f"SELECT * FROM {sql} ORDER BY customer_id").to_arrow_table().to_pandas()
    frame = frame.set_index("customer_id")
    assert frame.loc["NEVER", ["rfm_recency", "rfm_frequency", "rfm_monetary"]].isna().all()
    buyers = frame.drop(index="NEVER")
    for column in ("rfm_recency", "rfm_frequency", "rfm_monetary"):
        assert buyers[column].value_counts().to_dict() == {1: 10, 2: 10, 3: 10, 4: 10, 5: 10}
    assert buyers.loc["P49", "rfm_recency"] == 5 and buyers.loc["P00", "rfm_recency"] == 1
    assert buyers.loc["P49", "rfm_recency_days"] == 1
    # Calling it again over profiles that already carry the columns replaces them.
    again = add_rfm_scores(con, sql, AS_OF.to_pydatetime(), table="_rfm2")
    assert con.execute(f"SELECT count(*) FROM {again}").fetchone()[0] == 51


def test_rfm_ties_get_equal_scores_whatever_the_customer_ids(con, tmp_path):
    # 12 one-order buyers with the same last order and value, then 8 distinct bigger buyers:
    # ntile over (value, customer_id) spread the tied twelve over scores 1-3 by their random ids.
    tied = {"orders_count": 1, "lifetime_value": 20.0, "last_order_at": AS_OF - 40 * DAY}
    distinct = [
        {"orders_count": 2 + i, "lifetime_value": 30.0 + i, "last_order_at": AS_OF - (10 - i) * DAY}
        for i in range(8)
    ]
    scores = []
    for names in (range(20), reversed(range(20))):  # the same people under other ids
        ids = [f"C{n:02d}" for n in names]
        rows = [{"customer_id": ids[i], **tied} for i in range(12)]
        rows += [{"customer_id": ids[12 + i], **row} for i, row in enumerate(distinct)]
        path = write_profiles(tmp_path / f"p{len(scores)}.parquet", rows)
        sql = add_rfm_scores(con, path, AS_OF.to_pydatetime(), table=f"_rfm_tie{len(scores)}")
        scores.append(
            con.execute(
                f"SELECT orders_count, rfm_recency, rfm_frequency, rfm_monetary FROM {sql} ORDER BY ALL"
            ).fetchall()
        )
    assert scores[0] == scores[1]
    tied_scores = {row[1:] for row in scores[0] if row[0] == 1}
    assert tied_scores == {(1, 1, 1)}  # 12 of 20 share the lowest value: nobody is strictly below them
    top = max(scores[0])
    assert top[1:] == (5, 5, 5)  # 19 of 20 strictly below the best: 5 * 19 // 20 + 1


def test_history_enter_stay_exit_reenter(con, tmp_path):
    segments, _ = parse_segments([{"name": "big", "where": "lifetime_value >= 100"}])
    path = tmp_path / "profiles.parquet"
    lake_dir = tmp_path / "lake"
    history_path = lake_dir / "segments" / "segment_history.parquet"
    t = [AS_OF.to_pydatetime() + timedelta(days=d) for d in range(4)]
    lake_views.register(con, lake_dir, ["segment_history"])  # empty before the first run
    runs = [
        {"X": 150.0, "Y": 10.0},  # X enters
        {"X": 150.0, "Y": 200.0},  # X stays, Y enters
        {"X": 10.0, "Y": 200.0},  # X leaves
        {"X": 150.0, "Y": 200.0},  # X re-enters
    ]
    for run, values in enumerate(runs):
        profiles = write_profiles(path, [{"customer_id": c, "lifetime_value": v} for c, v in values.items()])
        result = compute_membership(con, segments, profiles, t[run], previous_history="segment_history")
        assert write_membership(con, result, lake_dir)["segment_history"] >= 1
        membership = dict(con.execute(f"SELECT customer_id, entered_at FROM {result.membership}").fetchall())
        if run == 1:
            assert membership == {"X": t[0], "Y": t[1]}
        if run == 2:
            assert membership == {"Y": t[1]}
    history = con.execute(
        f"SELECT customer_id, entered_at, exited_at FROM read_parquet('{history_path}') ORDER BY 1, 2"
    ).fetchall()
    assert history == [("X", t[0], t[2]), ("X", t[3], None), ("Y", t[1], None)]
    changes = con.execute(
        f"SELECT customer_id, change, changed_at FROM {changes_since_sql('segment_history', t[1])} ORDER BY 3"
    ).fetchall()
    assert changes == [("X", "exited", t[2]), ("X", "entered", t[3])]
    membership_file = lake_dir / catalog.table("segment_membership").path
    assert con.execute(f"SELECT count(*) FROM read_parquet('{membership_file}')").fetchone()[0] == 2


def test_failed_segment_keeps_history_and_erased_are_purged(con, tmp_path):
    good, _ = parse_segments([{"name": "big", "where": "lifetime_value >= 100"}])
    broken, _ = parse_segments([{"name": "big", "where": "lifetime_valu >= 100"}])
    profiles = write_profiles(
        tmp_path / "p.parquet",
        [{"customer_id": "X", "lifetime_value": 150.0}, {"customer_id": "Z", "lifetime_value": 500.0}],
    )
    first = compute_membership(con, good, profiles, AS_OF.to_pydatetime(), history_table="h1")
    con.execute("CREATE TABLE erased AS SELECT 'Z' AS customer_id")
    second = compute_membership(
        con,
        broken,
        profiles,
        (AS_OF + DAY).to_pydatetime(),
        previous_history=first.history,
        excluded_customers_sql="erased",
        history_table="h2",
    )
    assert [e.name for e in second.errors] == ["big"]
    rows = con.execute("SELECT customer_id, entered_at, exited_at FROM h2").fetchall()
    assert rows == [("X", AS_OF, None)]


def test_single_pass_matches_one_by_one(con, tmp_path):
    from uds_pipelines.lib.segments.membership import _evaluate_in_one_pass

    segments, _ = load_segments(CONFIG_DIR / "segments.yaml")
    profiles = add_rfm_scores(con, _profiles(tmp_path), AS_OF.to_pydatetime())
    con.execute("CREATE OR REPLACE TEMP TABLE _segment_current (customer_id VARCHAR, segment VARCHAR)")
    _evaluate_in_one_pass(con, segments, profiles, AS_OF.to_pydatetime())  # must not fall back
    together = set(con.execute("SELECT customer_id, segment FROM _segment_current").fetchall())
    one_by_one = set()
    for segment in segments:
        result = compute_membership(con, [segment], profiles, AS_OF.to_pydatetime())
        one_by_one |= set(con.execute(f"SELECT customer_id, segment FROM {result.membership}").fetchall())
    assert together == one_by_one and len(together) >= 6
