"""Emails, phones, countries and names are normalized when a record is merged into person_records,
once, not by every profiles run over all history (issue 15); records merged before those columns
existed are normalized by profiles as before."""

from __future__ import annotations

import pandas as pd
import pytest

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.identity.stage import build_inputs, resolve
from uds_pipelines.lib.normalize import duckdb_udfs
from uds_pipelines.lib.profiles.stage import build_profiles
from uds_pipelines_tests.generated_lake import landed_generated_lake

NORMALIZED = list(catalog.NORMALIZED_ATTRIBUTES)
PROFILE_COLUMNS = ["customer_id", "email", "phone", "country", "first_name", "last_name"]


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    settings = landed_generated_lake(tmp_path_factory.mktemp("normalized_once"), people=60, seed=31)
    build_inputs(settings)
    resolve(settings, run_id="test")
    build_profiles(settings)
    profiles = pd.read_parquet(catalog.path(settings.lake_dir, "customer_profiles"))
    return settings, profiles[PROFILE_COLUMNS].sort_values("customer_id").reset_index(drop=True)


def _counting_phone_normalizer(monkeypatch) -> list:
    calls: list = []
    normalize = duckdb_udfs.normalize_phone
    monkeypatch.setattr(duckdb_udfs, "normalize_phone", lambda *a: calls.append(a) or normalize(*a))
    return calls


def test_person_records_carry_their_normalized_attributes(merged):
    settings, _ = merged
    records = pd.read_parquet(catalog.path(settings.lake_dir, "person_records"))
    with_phone = records[records["phone_n"].notna()]
    assert len(with_phone) > 10 and with_phone["phone_n"].str.startswith("+").all()
    assert records.loc[records["email_n"].notna(), "email_n"].str.contains("@").all()
    assert records["first_name_n"].notna().sum() > 10


def test_profiles_do_not_normalize_merged_records_again(merged, monkeypatch):
    settings, before = merged
    records = pd.read_parquet(catalog.path(settings.lake_dir, "person_records"))
    calls = _counting_phone_normalizer(monkeypatch)
    build_profiles(settings, rebuild=True)  # every customer's base, not only changed ones
    # not even the phones the normalizer refused at merge time: their NULL is the answer
    refused = records["phone"].notna() & records["phone_n"].isna()
    assert refused.sum() > 0 and records["normalized"].all()
    assert calls == []
    after = pd.read_parquet(catalog.path(settings.lake_dir, "customer_profiles"))[PROFILE_COLUMNS]
    pd.testing.assert_frame_equal(after.sort_values("customer_id").reset_index(drop=True), before)


def test_records_merged_before_the_columns_existed_are_normalized_by_profiles(merged, monkeypatch):
    settings, before = merged
    path = catalog.path(settings.lake_dir, "person_records")
    original = pd.read_parquet(path)
    try:
        # an older lake's file
        lake.write_parquet_atomic(original.drop(columns=[*NORMALIZED, "normalized"]), path)
        calls = _counting_phone_normalizer(monkeypatch)
        build_profiles(settings, rebuild=True)  # an older lake has no profile state
        assert len(calls) == original["phone"].notna().sum()
        after = pd.read_parquet(catalog.path(settings.lake_dir, "customer_profiles"))[PROFILE_COLUMNS]
        pd.testing.assert_frame_equal(after.sort_values("customer_id").reset_index(drop=True), before)
    finally:
        lake.write_parquet_atomic(original, path)


def test_records_kept_from_before_the_columns_existed_are_normalized_by_profiles(merged, monkeypatch):
    """A file written since holds older records too (kept by later merges with their columns NULL):
    those are normalized by profiles, the records normalized at merge are not."""
    settings, before = merged
    path = catalog.path(settings.lake_dir, "person_records")
    original = pd.read_parquet(path)
    older = pd.Series(range(len(original))) % 2 == 0
    mixed = original.astype({"normalized": object})
    mixed.loc[older.to_numpy(), [*NORMALIZED, "normalized"]] = None
    try:
        lake.write_parquet_atomic(mixed, path)
        calls = _counting_phone_normalizer(monkeypatch)
        build_profiles(settings, rebuild=True)  # an older lake has no profile state
        assert 0 < len(calls) == original.loc[older.to_numpy(), "phone"].notna().sum()
        after = pd.read_parquet(catalog.path(settings.lake_dir, "customer_profiles"))[PROFILE_COLUMNS]
        pd.testing.assert_frame_equal(after.sort_values("customer_id").reset_index(drop=True), before)
    finally:
        lake.write_parquet_atomic(original, path)
