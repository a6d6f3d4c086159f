"""Access reports never stop on a landed value that Python's JSON reader cannot hold."""

import json

import pandas as pd

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.privacy import build_access_report, handle_requests, subjects_from_frame
from uds_pipelines_tests.lib.privacy.helpers import request, resolve
from uds_pipelines_tests.lib.privacy.lakefixture import JANE_CID, T0, build_lake

DEPTH = 100_000  # far beyond Python's recursion limit; DuckDB lands such an event as text


def _land_deep_event(lake_dir) -> str:
    payload = (
        '{"id": "evt_deep", "object": "event", "type": "customer.updated", "data": {"object": '
        '{"id": "cus_JANE000000001", "object": "customer", "metadata": {"blob": '
        + "[" * DEPTH + "]" * DEPTH + "}}}}"
    )
    row = {
        "event_id": "evt_deep", "type": "customer.updated", "created": T0, "livemode": False,
        "api_version": "2024-06-20", "object_type": "customer", "object_id": "cus_JANE000000001",
        "customer_ref": "cus_JANE000000001", "payload": payload, "source_file": "deep.jsonl",
        "position": 1, "landed_at": T0,
    }  # fmt: skip
    lake.write_parquet_atomic(pd.DataFrame([row]), lake_dir / catalog.table("landed_stripe").path / "batch-deep.parquet")
    return payload


def test_deeply_nested_stripe_value_appears_as_raw_text_in_the_report(tmp_path):
    lk = build_lake(tmp_path)
    payload = _land_deep_event(lk.lake_dir)
    con = lake.duckdb_connection()
    subject = subjects_from_frame(resolve(con, lk.lake_dir, [request("req-a1", "access", customer_id=JANE_CID)]))[0]
    report = build_access_report(con, lk.lake_dir, lk.exports_dir, subject)
    events = report["stripe_events"]
    assert payload in events  # kept whole as the landed text, not lost and not decoded
    assert {e["id"] for e in events if isinstance(e, dict)} == {"evt_1", "evt_2"}


def test_access_request_for_a_deeply_nested_event_is_answered_and_audited(tmp_path):
    lk = build_lake(tmp_path)
    payload = _land_deep_event(lk.lake_dir)
    con = lake.duckdb_connection()
    subjects = resolve(con, lk.lake_dir, [request("req-a1", "access", customer_id=JANE_CID)])
    result = handle_requests(
        lk.lake_dir, lk.exports_dir, subjects, key=b"k", warehouse_url=lk.warehouse_url, run_id="r", con=con
    )
    assert result.status_counts() == {"completed": 1}
    written = json.loads((lk.exports_dir / "access_requests" / "req-a1.json").read_text())
    assert payload in written["stripe_events"]


def test_a_nested_value_python_can_read_but_not_re_encode_stays_text(tmp_path):
    # 900 levels decode under the default recursion limit, but walking and re-encoding them with
    # the report's own frames on the stack would not: such a value is kept as text too.
    lk = build_lake(tmp_path)
    con = lake.duckdb_connection()
    submission = pd.read_parquet(next((lk.lake_dir / catalog.table("landed_forms").path).glob("*.parquet")))
    deep = '{"note": ' + "[" * 900 + "]" * 900 + "}"
    submission["fields_json"] = deep
    lake.write_parquet_atomic(submission, next((lk.lake_dir / catalog.table("landed_forms").path).glob("*.parquet")))
    subjects = resolve(con, lk.lake_dir, [request("req-a1", "access", customer_id=JANE_CID)])
    handle_requests(
        lk.lake_dir, lk.exports_dir, subjects, key=b"k", warehouse_url=lk.warehouse_url, run_id="r", con=con
    )
    written = json.loads((lk.exports_dir / "access_requests" / "req-a1.json").read_text())
    assert [s["fields_json"] for s in written["form_submissions"]] == [deep]
