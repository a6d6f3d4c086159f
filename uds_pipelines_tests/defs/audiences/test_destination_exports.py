"""The bundled ad-platform audiences run end to end through the lake: members, check, files, warehouse."""

import csv
import hashlib
import json

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from uds_pipelines.defs.audiences import assets as audience_assets
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import catalog, lake


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lake(tmp_path):
    lake_dir = tmp_path / "lake"
    profiles = pd.DataFrame(
        {
            "customer_id": ["uds_a", "uds_b", "uds_c"],
            "email": ["a@example.com", None, "c@example.com"],
            "phone": ["+14155550123", None, None],
            "first_name": ["Ann", "Bob", "Cy"],
            "last_name": ["Lee", "Ray", "Fox"],
            "country": ["US", "GB", "US"],
        }
    )
    lake.write_parquet_atomic(profiles, lake_dir / catalog.table("customer_profiles").path)
    now = pd.Timestamp("2026-10-01", tz="UTC")
    membership = pd.DataFrame(
        {"customer_id": ["uds_a", "uds_b", "uds_c"], "segment": "high_value", "entered_at": now}
    )
    lake.write_parquet_atomic(membership, lake_dir / catalog.table("segment_membership").path)
    consent = pd.DataFrame(
        {
            "customer_id": ["uds_a", "uds_b", "uds_c"],
            "purpose": "ad_targeting",
            "granted": [True, True, False],
            "decided_at": now,
        }
    )
    lake.write_parquet_atomic(consent, lake_dir / "consent/effective_consent.parquet")


def _rows(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    with open(folder / manifest["file"], newline="", encoding="utf-8") as handle:
        return manifest, list(csv.reader(handle))


def test_meta_and_google_audiences_reach_files_and_warehouse(tmp_path):
    _lake(tmp_path)
    result = dg.materialize(
        [
            audience_assets.audience_members,
            audience_assets.audience_members_consent_safe,
            audience_assets.audience_exports,
            audience_assets.warehouse_tables,
        ],
        resources={"uds": UdsSettingsResource(data_dir=str(tmp_path), as_of="2026-11-01T00:00:00Z")},
    )
    assert result.success
    exports = tmp_path / "exports/audiences"
    manifest, meta = _rows(exports / "high_value_lookalike")
    assert meta[0] == ["email", "phone", "fn", "ln", "zip", "ct", "country", "dob", "extern_id"]
    assert [r[-1] for r in meta[1:]] == ["uds_a", "uds_b"]  # uds_c said no
    assert meta[1][1] == sha("14155550123") and meta[2][6] == sha("gb")
    assert manifest["counts"]["excluded_no_consent"] == 1
    manifest, google = _rows(exports / "high_value_customer_match")
    assert google[0] == ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
    # uds_b has neither email nor phone: nothing Google can match, not written, counted
    assert google[1:] == [[sha("a@example.com"), sha("+14155550123"), sha("ann"), sha("lee"), "US", ""]]
    assert manifest["counts"]["excluded_no_match_key"] == 1 and manifest["counts"]["exported"] == 1
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT audience, customer_id, destination_fields FROM audience_members ORDER BY 1, 2")
        ).fetchall()
    engine.dispose()
    assert [(a, c) for a, c, _ in rows] == [
        ("high_value_customer_match", "uds_a"),
        ("high_value_lookalike", "uds_a"),
        ("high_value_lookalike", "uds_b"),
    ]
    assert json.loads(rows[0][2])["Country"] == "US"
