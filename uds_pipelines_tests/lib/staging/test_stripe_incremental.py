"""Stripe staging as durable state: merged batch by batch, replayed after crashes, kept past retention."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from uds_pipelines.lib import catalog, lake_views, watermarks
from uds_pipelines.lib.generator.core import generate
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files
from uds_pipelines.lib.privacy.retention import apply_retention
from uds_pipelines.lib.staging import stripe as staging
from uds_pipelines.lib.staging.stripe import STATE_TABLES, build_stripe_staging

# where the file an event came from shows; they differ between two ways of landing the same events
LANDING_COLUMNS = {"source_file", "position", "landed_at"}


def generated_events(root: Path, people: int, seed: int) -> list[dict]:
    generate(root, people=people, seed=seed, workers=1)
    events = []
    for path in sorted((root / "inbox" / "stripe").rglob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                event = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # the generator's corrupt lines: quarantined at landing, not staged
            if isinstance(event, dict) and event.get("object") == "event":
                events.append(event)
    return events


def land(lake_dir: Path, inbox: Path, name: str, events: list[dict]) -> None:
    path = inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    land_stripe_files([path], lake_dir)


def stamps(lake_dir: Path) -> dict[str, dict[str, int]]:
    """Per state table, the modification time of each of its files."""
    return {
        t: {p.name: p.stat().st_mtime_ns for p in lake_views.table_files(lake_dir, t)} for t in STATE_TABLES
    }


def snapshot(lake_dir: Path, drop: set[str] = frozenset()) -> dict[str, list[tuple]]:
    con = duckdb.connect()
    lake_views.register(con, lake_dir, STATE_TABLES)
    tables = {}
    for name in STATE_TABLES:
        columns = [c for c in catalog.table(name).columns if c not in drop]
        rows = con.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall()
        tables[name] = sorted(rows, key=repr)
    return tables


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> list[dict]:
    return generated_events(tmp_path_factory.mktemp("gen"), people=120, seed=23)


def test_batch_by_batch_in_any_arrival_order_equals_a_rebuild_and_one_batch(tmp_path, events):
    assert len(events) > 500 and {e["type"] for e in events} >= {"customer.created", "charge.succeeded"}
    shuffled = events[:]
    random.Random(4).shuffle(shuffled)  # newer states arrive before older ones
    lake_dir = tmp_path / "lake"
    for i in range(6):
        part = shuffled[i::6] + shuffled[: 10 * i]  # and earlier events delivered again
        land(lake_dir, tmp_path / "inbox", f"part-{i}.jsonl", part)
        build_stripe_staging(lake_dir)
    merged = snapshot(lake_dir)
    assert len(merged["stripe_customers"]) > 50 and len(merged["stripe_charges"]) > 50

    build_stripe_staging(lake_dir, rebuild=True)
    assert snapshot(lake_dir) == merged

    # the same events landed in one file, in their original order, give the same state
    whole = tmp_path / "whole"
    land(whole, tmp_path / "inbox-whole", "all.jsonl", events)
    build_stripe_staging(whole)
    assert snapshot(whole, LANDING_COLUMNS) == snapshot(lake_dir, LANDING_COLUMNS)


def test_a_run_with_nothing_new_rewrites_nothing(tmp_path, events):
    lake_dir = tmp_path / "lake"
    land(lake_dir, tmp_path / "inbox", "a.jsonl", events[:300])
    build_stripe_staging(lake_dir)
    before = stamps(lake_dir)
    build_stripe_staging(lake_dir)
    assert stamps(lake_dir) == before


def test_new_events_are_appended_as_a_batch_never_rewriting_the_staged_ones(tmp_path, events):
    lake_dir = tmp_path / "lake"
    land(lake_dir, tmp_path / "inbox", "a.jsonl", events[:300])
    build_stripe_staging(lake_dir)
    folder = catalog.path(lake_dir, "stripe_events")
    (first,) = sorted(folder.glob("*.parquet"))
    first_bytes = first.read_bytes()
    land(lake_dir, tmp_path / "inbox", "b.jsonl", events[250:400])  # 50 delivered again
    build_stripe_staging(lake_dir)
    files = sorted(folder.glob("*.parquet"), key=lambda p: p.stat().st_mtime_ns)
    assert len(files) == 2 and files[0] == first and first.read_bytes() == first_bytes
    count = lambda path: duckdb.connect().execute(f"SELECT count(*) FROM '{path}'").fetchone()[0]  # noqa: E731
    staged_before = {e["id"] for e in events[:300]}
    assert 0 < count(files[1]) <= len({e["id"] for e in events[300:400]} - staged_before)
    staged = count(first) + count(files[1])
    # a rebuild starts the folder again: one batch holding every event once
    build_stripe_staging(lake_dir, rebuild=True)
    (rebuilt,) = folder.glob("*.parquet")
    assert count(rebuilt) == staged


@pytest.mark.parametrize(
    "crash_after", ["stripe_events", "stripe_customers", "stripe_consents", "stripe_versions"]
)
def test_a_crash_before_the_watermark_replays_to_the_same_tables(tmp_path, events, monkeypatch, crash_after):
    lake_dir = tmp_path / "lake"
    land(lake_dir, tmp_path / "inbox", "a.jsonl", events[: len(events) // 2])
    build_stripe_staging(lake_dir)
    land(lake_dir, tmp_path / "inbox", "b.jsonl", events[len(events) // 2 :])

    real_write = staging.lake_views.write_query

    def write_then_crash(con, lake_dir_, name, sql, *args, **kwargs):
        rows = real_write(con, lake_dir_, name, sql, *args, **kwargs)
        if name == crash_after:
            raise KeyboardInterrupt("killed")
        return rows

    monkeypatch.setattr(staging.lake_views, "write_query", write_then_crash)
    with pytest.raises(KeyboardInterrupt):
        build_stripe_staging(lake_dir)
    monkeypatch.undo()
    build_stripe_staging(lake_dir)
    replayed = snapshot(lake_dir)
    build_stripe_staging(lake_dir, rebuild=True)
    assert snapshot(lake_dir) == replayed


def _event(event_id: str, type_: str, created: datetime, obj: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": type_,
        "created": int(created.timestamp()),
        "livemode": False,
        "api_version": "2024-06-20",
        "data": {"object": obj},
    }


def _customer_with_charge(n: int, created: datetime) -> list[dict]:
    customer = {
        "id": f"cus_r{n}",
        "object": "customer",
        "email": f"r{n}@example.com",
        "name": f"Ret {n}",
        "created": int(created.timestamp()),
        "metadata": {},
    }
    charge = {
        "id": f"ch_r{n}",
        "object": "charge",
        "customer": f"cus_r{n}",
        "amount": 1000 * n,
        "amount_refunded": 0,
        "currency": "usd",
        "status": "succeeded",
        "paid": True,
        "refunded": False,
        "created": int(created.timestamp()),
    }
    return [
        _event(f"evt_c{n}", "customer.created", created, customer),
        _event(f"evt_p{n}", "charge.succeeded", created, charge),
    ]


def test_retention_deletes_raw_events_never_the_staged_facts(tmp_path):
    """The issue's case: a customer and charge of 2022 and of 2026 in one file, retention 730 days."""
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    lake_dir = tmp_path / "lake"
    land(
        lake_dir,
        tmp_path / "inbox",
        "history.jsonl",
        _customer_with_charge(1, datetime(2022, 3, 1, tzinfo=UTC))
        + _customer_with_charge(2, datetime(2026, 3, 1, tzinfo=UTC)),
    )

    # retention before staging (the first run of a backfill): the unmerged batch is left alone
    assert apply_retention(lake_dir, as_of)["landed/stripe"] == 0
    build_stripe_staging(lake_dir)
    staged = snapshot(lake_dir, LANDING_COLUMNS)
    assert len(staged["stripe_customers"]) == 2 and len(staged["stripe_charges"]) == 2

    # merged now: the 2022 raw events go, the staged facts stay, this run and the next
    assert apply_retention(lake_dir, as_of)["landed/stripe"] == 2
    con = duckdb.connect()
    landed = con.execute(
        f"SELECT event_id FROM '{catalog.path(lake_dir, 'landed_stripe')}/*.parquet'"
    ).fetchall()
    assert sorted(r[0] for r in landed) == ["evt_c2", "evt_p2"]
    build_stripe_staging(lake_dir)
    assert snapshot(lake_dir, LANDING_COLUMNS) == staged
    land(
        lake_dir,
        tmp_path / "inbox",
        "later.jsonl",
        _customer_with_charge(3, datetime(2026, 10, 1, tzinfo=UTC)),
    )
    build_stripe_staging(lake_dir)
    after = snapshot(lake_dir, LANDING_COLUMNS)
    assert {r[0] for r in after["stripe_customers"]} == {"cus_r1", "cus_r2", "cus_r3"}
    assert len(after["stripe_charges"]) == 3


def test_watermark_lists_each_merged_batch_and_forgets_deleted_ones(tmp_path, events):
    lake_dir = tmp_path / "lake"
    land(lake_dir, tmp_path / "inbox", "a.jsonl", events[:50])
    land(lake_dir, tmp_path / "inbox", "b.jsonl", events[50:100])
    counts = build_stripe_staging(lake_dir)
    assert counts[watermarks.TABLE] == 2
    first = sorted(catalog.path(lake_dir, "landed_stripe").glob("*.parquet"))[0]
    first.unlink()  # as erasure does with a batch it empties
    land(lake_dir, tmp_path / "inbox", "c.jsonl", events[100:150])
    assert build_stripe_staging(lake_dir)[watermarks.TABLE] == 2


def test_customer_deletions_merge_as_one_history_would(tmp_path):
    """Attributes come from the newest event that is not the deletion; `deleted_at` is the first
    deletion, whichever batch brings it."""
    t = [datetime(2026, 1, d, tzinfo=UTC) for d in range(1, 6)]

    def customer(n: int, email: str, deleted: bool = False) -> dict:
        return {
            "id": f"cus_d{n}",
            "object": "customer",
            "email": email,
            "created": int(t[0].timestamp()),
            "metadata": {},
        } | ({"deleted": True} if deleted else {})

    batches = [
        # d1: seen deleted first, its earlier state arrives later; d2: live, then deleted twice,
        # the earlier deletion last
        [
            _event("evt_1", "customer.deleted", t[3], customer(1, "gone@example.com", deleted=True)),
            _event("evt_2", "customer.created", t[0], customer(2, "two@example.com")),
        ],
        [
            _event("evt_3", "customer.updated", t[1], customer(1, "one@example.com")),
            _event("evt_4", "customer.deleted", t[4], customer(2, "two-late@example.com", deleted=True)),
        ],
        [_event("evt_5", "customer.deleted", t[2], customer(2, "two-early@example.com", deleted=True))],
    ]
    lake_dir = tmp_path / "lake"
    seen = []
    for i, batch in enumerate(batches):
        land(lake_dir, tmp_path / "inbox", f"d{i}.jsonl", batch)
        build_stripe_staging(lake_dir)
        rows = (
            duckdb.connect()
            .execute(
                "SELECT customer_id, email, deleted, deleted_at, updated_at "
                f"FROM '{catalog.path(lake_dir, 'stripe_customers')}/*.parquet' ORDER BY 1"
            )
            .fetchall()
        )
        seen.append(rows)
    assert seen[0][0][1:] == ("gone@example.com", True, t[3], t[3])  # only a deletion so far
    assert seen[1][0][1:] == ("one@example.com", True, t[3], t[3])  # the live state wins
    assert seen[1][1][1:] == ("two@example.com", True, t[4], t[4])
    assert seen[2][1][1:] == ("two@example.com", True, t[2], t[4])  # the first deletion counts
    merged = snapshot(lake_dir)
    build_stripe_staging(lake_dir, rebuild=True)
    assert snapshot(lake_dir) == merged


def test_a_delivery_rewrites_only_the_tables_whose_rows_it_changes(tmp_path, events):
    lake_dir = tmp_path / "lake"
    land(lake_dir, tmp_path / "inbox", "a.jsonl", events[:400])
    build_stripe_staging(lake_dir)
    before = stamps(lake_dir)
    update = _event(
        "evt_only_customer",
        "customer.updated",
        datetime(2026, 10, 1, tzinfo=UTC),
        {"id": "cus_solo", "object": "customer", "email": "solo@example.com", "metadata": {}},
    )
    land(lake_dir, tmp_path / "inbox", "b.jsonl", [update])
    build_stripe_staging(lake_dir)
    after = stamps(lake_dir)
    assert {t for t in STATE_TABLES if after[t] != before[t]} == {
        "stripe_events",
        "stripe_customers",
        "stripe_versions",
    }
    # a new object: one new part per changed table, and no part written before was touched
    for table in ("stripe_events", "stripe_customers", "stripe_versions"):
        assert len(after[table]) == len(before[table]) + 1
        assert {name: after[table][name] for name in before[table]} == before[table]


def test_an_update_rewrites_only_the_part_that_holds_the_object(tmp_path, events):
    lake_dir = tmp_path / "lake"
    land(lake_dir, tmp_path / "inbox", "a.jsonl", events[:400])
    build_stripe_staging(lake_dir)
    t = datetime(2026, 10, 1, tzinfo=UTC)
    solo = {"id": "cus_solo", "object": "customer", "email": "solo@example.com", "metadata": {}}
    land(lake_dir, tmp_path / "inbox", "b.jsonl", [_event("evt_solo_1", "customer.created", t, solo)])
    build_stripe_staging(lake_dir)
    before = stamps(lake_dir)["stripe_customers"]
    assert len(before) == 2
    moved = solo | {"email": "moved@example.com"}
    later = datetime(2026, 10, 2, tzinfo=UTC)
    land(lake_dir, tmp_path / "inbox", "c.jsonl", [_event("evt_solo_2", "customer.updated", later, moved)])
    build_stripe_staging(lake_dir)
    after = stamps(lake_dir)["stripe_customers"]
    oldest, second = sorted(before)
    assert after[oldest] == before[oldest]  # the first delivery's customers are left alone
    assert second not in after and len(after) == 2  # the solo part had only it: replaced by the new part
    con = duckdb.connect()
    lake_views.register(con, lake_dir, ["stripe_customers"])
    assert con.execute("SELECT email FROM stripe_customers WHERE customer_id = 'cus_solo'").fetchall() == [
        ("moved@example.com",)
    ]
    merged = snapshot(lake_dir)
    build_stripe_staging(lake_dir, rebuild=True)
    assert snapshot(lake_dir) == merged


def test_the_configured_memory_limit_bounds_the_merge(tmp_path, monkeypatch):
    seen = []
    real = staging.lake.duckdb_connection
    monkeypatch.setattr(
        staging.lake, "duckdb_connection", lambda limit="2GB": seen.append(limit) or real(limit)
    )
    build_stripe_staging(tmp_path / "lake", memory_limit="300MB")
    assert seen == ["300MB"]
