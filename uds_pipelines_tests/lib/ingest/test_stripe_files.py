"""Tests for Stripe file landing: real fixtures, bad input to quarantine, dedup, idempotent reruns."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.ingest.stripe_files import (
    batch_name_for,
    land_stripe_files,
    release_held_batch,
)


def event(event_id: str, type_: str, created: int, obj: dict | None) -> dict:
    body = {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "type": type_,
    }
    if obj is not None:
        body["data"] = {"object": obj}
    return body


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        r if isinstance(r, bytes) else (r if isinstance(r, str) else json.dumps(r)).encode() for r in rows
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def fixture(realdata: Path, name: str) -> dict:
    return json.loads((realdata / "stripe" / f"openapi_fixture_{name}.json").read_text())


def landed(lake_dir: Path) -> list[dict]:
    con = duckdb.connect()
    rel = con.execute(
        f"SELECT * FROM read_parquet('{lake_dir}/landed/stripe/*.parquet') ORDER BY source_file, position"
    )
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]


def quarantined(lake_dir: Path) -> list[tuple]:
    con = duckdb.connect()
    return con.execute(
        f"SELECT source, source_file, position, reason FROM read_parquet('{lake_dir}/quarantine/*.parquet') "
        "ORDER BY source_file, position"
    ).fetchall()


def test_real_fixtures_land_with_envelope(tmp_path, realdata):
    customer = fixture(realdata, "customer")
    invoice = fixture(realdata, "invoice")
    charge = fixture(realdata, "charge")
    src = write_jsonl(
        tmp_path / "in" / "events.jsonl",
        [
            event("evt_c1", "customer.created", 1700000000, customer),
            event("evt_i1", "invoice.paid", 1700000100, invoice),
            event("evt_ch1", "charge.succeeded", 1700000200, charge),
        ],
    )
    real_event = realdata / "stripe" / "openapi_fixture_event.json"  # a plan.created envelope
    result = land_stripe_files([src, real_event], tmp_path / "lake")

    assert result.records_landed == 4 and result.records_quarantined == 0 and result.conserved
    schema = duckdb.connect().execute(f"DESCRIBE SELECT * FROM '{result.batch_path}'").fetchall()
    declared = catalog.table("landed_stripe").schema
    assert [(c[0], c[1]) for c in schema] == [(f.name, catalog.duckdb_type(f.type)) for f in declared]
    rows = {r["event_id"]: r for r in landed(tmp_path / "lake")}
    assert rows["evt_c1"]["customer_ref"] == "cus_QXg1o8vcGmoR32"
    assert rows["evt_c1"]["object_type"] == "customer" and rows["evt_c1"]["position"] == 1
    assert rows["evt_i1"]["customer_ref"] == "cus_QXg1o8vcGmoR32"
    assert rows["evt_i1"]["object_id"] == "in_1Pgc6tB7WZ01zgkWu9fdqL6I"
    assert rows["evt_ch1"]["customer_ref"] is None  # the charge fixture has no customer
    assert rows["evt_ch1"]["created"].timestamp() == 1700000200
    assert json.loads(rows["evt_ch1"]["payload"])["data"]["object"] == charge
    plan = rows["evt_1Pgc76B7WZ01zgkWwyRHS12y"]
    assert (plan["type"], plan["object_type"], plan["source_file"], plan["position"]) == (
        "plan.created",
        "plan",
        "openapi_fixture_event.json",
        1,
    )
    assert plan["api_version"] is None and plan["livemode"] is False


def test_every_bad_input_kind_is_quarantined_and_the_rest_lands(tmp_path, realdata):
    good = event("evt_ok", "customer.created", 1700000000, fixture(realdata, "customer"))
    src = write_jsonl(
        tmp_path / "in" / "mixed.jsonl",
        [
            good,  # 1
            '{"id": "evt_trunc", "type": "charge.succeeded", "crea',  # 2 truncated JSON
            b'{"id": "evt_utf", "name": "\xff\xfe"}',  # 3 invalid UTF-8
            "[1, 2, 3]",  # 4 JSON array
            event("", "x.y", 1700000000, {"id": "x"}) | {"id": None},  # 5 no id
            event("evt_nodata", "customer.created", 1700000000, None),  # 6 no data.object
            event("evt_badts", "customer.created", 0, {"id": "c"}) | {"created": "yesterday"},  # 7
            "",  # 8 blank: not a record
            event("evt_unknown", "brand_new.type", 1700000001, {"id": "zz_1", "object": "zz"}),  # 9
        ],
    )
    empty = tmp_path / "in" / "empty.jsonl"
    empty.write_bytes(b"")
    bad_json = tmp_path / "in" / "broken.json"
    bad_json.write_text('{"id": "evt_x",\n "data": }')
    result = land_stripe_files([src, empty, bad_json], tmp_path / "lake")

    reasons = {(q.source_file, q.position): q.reason for q in result.quarantine}
    assert reasons == {
        ("mixed.jsonl", 2): "invalid JSON at line 2: Unterminated string starting at",
        ("mixed.jsonl", 3): "invalid UTF-8 at line 3",
        ("mixed.jsonl", 4): "JSON array where an event object is expected at line 4",
        ("mixed.jsonl", 5): "event without id at line 5",
        ("mixed.jsonl", 6): "event without data.object at line 6",
        ("mixed.jsonl", 7): "created is not a unix timestamp at line 7",
        ("empty.jsonl", 0): "empty file (0 bytes)",
        ("broken.json", 0): "invalid JSON at line 2: Expecting value",
    }
    assert sorted(r["event_id"] for r in landed(tmp_path / "lake")) == ["evt_ok", "evt_unknown"]
    assert [r["position"] for r in landed(tmp_path / "lake")] == [1, 9]
    stats = {f.file_name: f for f in result.files}
    assert (stats["mixed.jsonl"].records_read, stats["mixed.jsonl"].records_landed) == (8, 2)
    assert (
        result.records_read == result.records_landed + result.records_quarantined + result.duplicates_skipped
    )
    on_disk = quarantined(tmp_path / "lake")
    assert len(on_disk) == 8 and {q[0] for q in on_disk} == {"stripe"}
    raw = (
        duckdb.connect()
        .execute(f"SELECT raw FROM read_parquet('{tmp_path}/lake/quarantine/*.parquet') WHERE position = 4")
        .fetchone()[0]
    )
    assert raw == "[1, 2, 3]"


def test_json_list_object_positions_and_bad_items(tmp_path):
    doc = {
        "object": "list",
        "has_more": False,
        "data": [
            event("evt_a", "customer.created", 1700000000, {"id": "cus_a", "object": "customer"}),
            {"object": "event", "type": "x", "created": 1, "data": {"object": {}}},
            event(
                "evt_b",
                "charge.succeeded",
                1700000001,
                {"id": "ch_b", "object": "charge", "customer": "cus_a"},
            ),
        ],
    }
    path = tmp_path / "page.json"
    path.write_text(json.dumps(doc))
    result = land_stripe_files([path], tmp_path / "lake")
    rows = landed(tmp_path / "lake")
    assert [(r["event_id"], r["position"], r["customer_ref"]) for r in rows] == [
        ("evt_a", 1, "cus_a"),
        ("evt_b", 3, "cus_a"),
    ]
    assert [(q.position, q.reason) for q in result.quarantine] == [(2, "event without id at item 2")]
    assert result.files[0].records_read == 3 and result.conserved


def test_duplicates_within_and_across_batches_are_skipped(tmp_path):
    e1 = event("evt_1", "customer.created", 1700000000, {"id": "cus_1", "object": "customer"})
    e2 = event("evt_2", "customer.updated", 1700000005, {"id": "cus_1", "object": "customer"})
    first = land_stripe_files([write_jsonl(tmp_path / "a.jsonl", [e1, e1, e2])], tmp_path / "lake")
    assert (first.records_landed, first.duplicates_skipped) == (2, 1)
    single = tmp_path / "evt_2.json"
    single.write_text(json.dumps(e2))
    e3 = event("evt_3", "customer.updated", 1700000009, {"id": "cus_1", "object": "customer"})
    second = land_stripe_files([single, write_jsonl(tmp_path / "b.jsonl", [e1, e3])], tmp_path / "lake")
    assert (second.records_landed, second.duplicates_skipped) == (1, 2)
    assert second.conserved
    assert sorted(r["event_id"] for r in landed(tmp_path / "lake")) == ["evt_1", "evt_2", "evt_3"]
    assert len(list((tmp_path / "lake" / "landed" / "stripe").glob("*.parquet"))) == 2


def test_rerun_after_crash_is_idempotent(tmp_path):
    rows = [
        event(f"evt_{i}", "charge.succeeded", 1700000000 + i, {"id": f"ch_{i}", "object": "charge"})
        for i in range(5)
    ] + ["{broken"]
    src = write_jsonl(tmp_path / "in" / "batch.jsonl", rows)
    first = land_stripe_files([src], tmp_path / "lake")
    # a killed earlier attempt of the same batch left a temp file behind
    stale = first.batch_path.parent / f".{first.batch_path.name}.deadbeef.tmp"
    stale.write_bytes(b"partial")
    again = land_stripe_files([src], tmp_path / "lake")
    assert again.batch_path == first.batch_path
    assert first.batch_path.name == batch_name_for([lake.sha256_file(src)])
    assert (again.records_landed, again.duplicates_skipped, again.records_quarantined) == (5, 0, 1)
    assert not stale.exists()
    assert len(landed(tmp_path / "lake")) == 5
    assert len(quarantined(tmp_path / "lake")) == 1
    assert again.quarantine_paths == first.quarantine_paths


def test_positions_follow_lines_across_files_and_blank_lines(tmp_path):
    files = []
    for f in range(3):
        rows = []
        for i in range(20_000):
            rows.append(
                ""
                if i % 97 == 5
                else event(
                    f"evt_{f}_{i + 1}",
                    "charge.succeeded",
                    1700000000 + i,
                    {"id": f"ch_{f}_{i}", "object": "charge", "description": "x" * (i % 300)},
                )
            )
        files.append(write_jsonl(tmp_path / f"part{f}.jsonl", rows))
    con = lake.duckdb_connection(threads=2)  # a caller's connection: settings must be restored
    result = land_stripe_files(files, tmp_path / "lake", con=con)
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0] is False
    wrong = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), count(*) FILTER (WHERE event_id <> 'evt_' || substr(source_file, 5, 1) || '_' || position)"
            f" FROM '{result.batch_path}'"
        )
        .fetchone()
    )
    assert wrong == (result.records_landed, 0)
    assert result.records_landed == 3 * (20_000 - len(range(5, 20_000, 97)))


def test_unsupported_and_reasons_never_carry_personal_data(tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    src = write_jsonl(tmp_path / "p.jsonl", ['{"email": "jane.doe@example.com", "phone": "+4915112345678",'])
    result = land_stripe_files([txt, src], tmp_path / "lake")
    reasons = [q.reason for q in result.quarantine]
    assert reasons[0] == "unsupported file type .txt: expected .jsonl or .json"
    assert reasons[1].startswith("invalid JSON at line 1: ")
    assert all("jane" not in r and "12345678" not in r for r in reasons)
    assert result.records_landed == 0 and result.batch_path is None


@pytest.mark.parametrize("payload", [b"   \n", b"\xef\xbb\xbf"])
def test_whitespace_only_json_file_is_one_quarantine_record(tmp_path, payload):
    path = tmp_path / "blank.json"
    path.write_bytes(payload)
    result = land_stripe_files([path], tmp_path / "lake")
    assert [(q.position, q.reason) for q in result.quarantine] == [(0, "empty file (no events)")]
    assert result.conserved and result.records_read == 1


def test_a_held_batch_is_invisible_until_released_and_a_crash_leaves_nothing_readable(tmp_path):
    rows = [event(f"evt_{i}", "charge.succeeded", 1700000000 + i, {"id": f"ch_{i}", "object": "charge"}) for i in range(3)]
    src = write_jsonl(tmp_path / "in" / "batch.jsonl", rows)
    folder = tmp_path / "lake" / catalog.table("landed_stripe").path
    held = land_stripe_files([src], tmp_path / "lake", hold=True)
    assert held.batch_path.name.endswith(lake.HELD_SUFFIX) and held.records_landed == 3
    assert not lake.has_parquet(folder)  # staging and every other reader see no batch yet
    # the process dies here; the inbox file is still there and is landed again
    again = land_stripe_files([src], tmp_path / "lake", hold=True)
    assert again.batch_path == held.batch_path and again.records_landed == 3
    released = release_held_batch(again.batch_path)
    assert released is not None and released.suffix == ".parquet" and not held.batch_path.exists()
    assert sorted(r["event_id"] for r in landed(tmp_path / "lake")) == ["evt_0", "evt_1", "evt_2"]
    assert [p.name for p in folder.iterdir()] == [released.name]


def test_a_held_batch_emptied_by_screening_is_not_released(tmp_path):
    src = write_jsonl(tmp_path / "a.jsonl", [event("evt_1", "customer.created", 1700000000, {"id": "cus_1"})])
    held = land_stripe_files([src], tmp_path / "lake", hold=True)
    held.batch_path.unlink()  # what the suppression gate does when every event was suppressed
    assert release_held_batch(held.batch_path) is None
