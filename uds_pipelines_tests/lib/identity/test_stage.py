"""The identity stage around the resolver: refused identifiers with reasons, oversized components named."""

from __future__ import annotations

import duckdb
import pandas as pd

from uds_pipelines.lib import connection
from uds_pipelines.lib.identity import GuardrailConfig, resolve_identities
from uds_pipelines.lib.identity.rejections import rejected_identifiers_sql
from uds_pipelines.lib.identity.stage import oversized_components, unmapped_records
from uds_pipelines_tests.lib.identity.helpers import T0, identifiers_frame

RECORD_COLUMNS = ["source", "record_id", "email", "phone", "country"]


def test_refused_emails_and_phones_are_listed_with_a_reason_and_no_value() -> None:
    con = connection.connect(default_region="US")
    rows = [
        ("form", "ok", "Ann@Example.org", "+44 20 7946 0018", "GB"),
        ("form", "bad-email", "ann(at)mail", None, None),
        ("form", "short-phone", None, "555-12", "US"),
        ("form", "wrong-region", None, "020 7946 0018", None),  # a UK number read as US
        ("form", "placeholder", None, "000-000-0000", None),
        ("form", "blank", "  ", "", None),
    ]
    con.register("recs", pd.DataFrame(rows, columns=RECORD_COLUMNS))
    got = con.execute(
        rejected_identifiers_sql("US", records_table="recs") + " ORDER BY record_id, id_type"
    ).df()
    by_record = {(r.record_id, r.id_type): r.reason for r in got.itertuples()}
    assert set(by_record) == {
        ("bad-email", "email"),
        ("short-phone", "phone"),
        ("wrong-region", "phone"),
        ("placeholder", "phone"),
    }
    assert by_record[("placeholder", "phone")] == "placeholder number"
    assert by_record[("short-phone", "phone")] == "too short"
    assert by_record[("wrong-region", "phone")] == "too long"  # 11 digits as a US number
    assert list(got.columns) == ["source", "record_id", "id_type", "reason"]
    text = got.to_csv()
    assert "ann" not in text.lower() and "7946" not in text


def test_oversized_components_name_the_shared_value_masked() -> None:
    # 30 records glued by one phone the guardrails allow (limit raised), plus a normal pair.
    records = {("form", f"f{i}"): [("phone", "+15005550123"), ("email", f"p{i}@mail.io")] for i in range(30)}
    records[("form", "a")] = [("email", "ann@mail.io")]
    records[("survey", "b")] = [("email", "ann@mail.io")]
    config = GuardrailConfig.from_dict(
        {"max_records_per_value": 100, "max_values_per_type": {"email": 100}, "warn_component_records": 25}
    )
    con = duckdb.connect()
    con.register("ids", identifiers_frame(records))
    result = resolve_identities(
        con, "ids", previous_map_table=None, previous_registry_table=None,
        config=config, run_id="r1", now=T0,
    )  # fmt: skip
    big = oversized_components(con, result, config.warn_component_records)
    assert len(big) == 1
    row = big.iloc[0]
    assert row.records == 30 and row.records_holding_it == 30
    assert row.top_identifier_type == "phone"
    assert row.top_identifier != "+15005550123" and row.top_identifier.endswith("23")
    assert oversized_components(con, result, 30).empty


def test_unmapped_records_counts_each_record_without_a_map_row_once() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE identifiers AS SELECT * FROM (VALUES ('form', 'r1', 'email'), ('form', 'r1', 'phone'), "
        "('stripe', 'r1', 'email'), ('form', 'r2', NULL), ('form', 'r3', 'email')) t(source, record_id, id_type)"
    )
    con.execute(
        "CREATE TABLE map AS SELECT * FROM (VALUES ('form', 'r3', 'c1')) t(source, record_id, customer_id)"
    )
    assert unmapped_records(con, "map") == 3  # form r1 (two rows), stripe r1, form r2
