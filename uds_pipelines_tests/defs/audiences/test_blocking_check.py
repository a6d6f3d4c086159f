"""A planning bug that would export people without consent is stopped by the blocking check:
the check fails, the export asset does not run, and no file is written."""

import dagster as dg
import pandas as pd

from uds_pipelines.defs.audiences import assets as audience_assets
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.audiences import stage as audience_stage


def _lake_with_profiles(tmp_path):
    lake_dir = tmp_path / "lake"
    profiles = pd.DataFrame(
        {
            "customer_id": ["uds_a", "uds_b", "uds_c"],
            "email": ["a@example.com", "b@example.com", "c@example.com"],
            "phone": [None, None, None],
            "first_name": ["Ann", "Bob", "Cy"],
            "last_name": ["A", "B", "C"],
            "country": ["US", "US", "GB"],
        }
    )
    lake.write_parquet_atomic(profiles, lake_dir / catalog.table("customer_profiles").path)
    now = pd.Timestamp("2026-10-01", tz="UTC")
    membership = pd.DataFrame(
        {"customer_id": ["uds_a", "uds_b", "uds_c"], "segment": "at_risk", "entered_at": now}
    )
    lake.write_parquet_atomic(membership, lake_dir / catalog.table("segment_membership").path)
    consent = pd.DataFrame(
        {
            "customer_id": ["uds_a", "uds_b"],
            "purpose": "email_marketing",
            "granted": [True, False],
            "decided_at": now,
        }
    )
    lake.write_parquet_atomic(consent, lake_dir / "consent/effective_consent.parquet")
    return lake_dir


def _materialize(tmp_path):
    return dg.materialize(
        [
            audience_assets.audience_members,
            audience_assets.audience_members_consent_safe,
            audience_assets.audience_exports,
        ],
        resources={"uds": UdsSettingsResource(data_dir=str(tmp_path), as_of="2026-11-01T00:00:00Z")},
        raise_on_error=False,
    )


def test_correct_plan_exports_only_consented_people(tmp_path):
    _lake_with_profiles(tmp_path)
    result = _materialize(tmp_path)
    assert result.success
    exported = pd.read_csv(next((tmp_path / "exports/audiences/winback_email").glob("*.csv")))
    assert exported["customer_id"].tolist() == ["uds_a"]


def test_planning_bug_is_stopped_before_any_file_is_written(tmp_path, monkeypatch):
    _lake_with_profiles(tmp_path)
    original = audience_stage.plan_audience

    def plan_ignoring_consent(con, audience, membership, profiles, effective_consent, excluded=None):
        everyone_consents = (
            f"(SELECT customer_id, '{audience.purpose}' AS purpose, true AS granted FROM {profiles})"
        )
        return original(con, audience, membership, profiles, everyone_consents, excluded)

    monkeypatch.setattr(audience_stage, "plan_audience", plan_ignoring_consent)
    result = _materialize(tmp_path)
    assert not result.success
    checks = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert [(c.check_name, c.passed) for c in checks] == [("audience_members_consent_safe", False)]
    assert not (tmp_path / "exports").exists() or not any((tmp_path / "exports").rglob("*.csv"))
