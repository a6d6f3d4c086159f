"""Destination formats: each platform's headers, normalization and hashing, from its own documentation."""

from __future__ import annotations

import hashlib

import pytest

from uds_pipelines.lib import lake
from uds_pipelines.lib.audiences import parse_audiences, plan_audience
from uds_pipelines_tests.lib.segments.helpers import PURPOSES, write_profiles


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def con():
    connection = lake.duckdb_connection(memory_limit="256MB")
    yield connection
    connection.close()


def _plan(con, tmp_path, fmt: str, profiles: list[dict]):
    relation = write_profiles(tmp_path / "profiles.parquet", profiles)
    ids = [p["customer_id"] for p in profiles]
    values = ", ".join(f"('{c}', 'vip')" for c in ids)
    consents = ", ".join(f"('{c}', 'ad_targeting', true)" for c in ids)
    con.execute(f"CREATE OR REPLACE TABLE membership AS SELECT * FROM (VALUES {values}) AS t(customer_id, segment)")
    con.execute(f"CREATE OR REPLACE TABLE consent AS SELECT * FROM (VALUES {consents}) AS t(customer_id, purpose, granted)")
    audiences, errors = parse_audiences(
        [{"name": f"vip_{fmt}", "segment": "vip", "purpose": "ad_targeting", "format": fmt}], PURPOSES
    )
    assert errors == []
    return plan_audience(con, audiences[0], "membership", relation, "consent")


def test_meta_phone_is_hashed_as_digits_without_plus(con, tmp_path):
    # Meta: "Remove symbols, letters, and any leading zeros"; the number keeps its country code
    # (https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences).
    plan = _plan(con, tmp_path, "meta_custom_audience", [{"customer_id": "C1", "phone": "+14155550123"}])
    row = plan.rows.to_pylist()[0]
    assert row["phone"] == sha("14155550123")
    assert row["phone"] != sha("+14155550123")
