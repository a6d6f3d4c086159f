"""Form and privacy files through the real landing path: Parquet batches that pass conservation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from uds_pipelines.lib.ingest.conservation import conservation_violations
from uds_pipelines.lib.ingest.forms import parse_form_file
from uds_pipelines.lib.ingest.landing import SourceSpec, land_files
from uds_pipelines.lib.ingest.privacy_requests import parse_privacy_file


def test_realdata_and_bad_files_land_and_conserve(tmp_path: Path, realdata: Path) -> None:
    inbox, lake_dir = tmp_path / "inbox", tmp_path / "lake"
    inbox.mkdir()
    for source in sorted((realdata / "forms").glob("*.json")):
        shutil.copyfile(source, inbox / source.name)
    (inbox / "bad.jsonl").write_bytes(b'{"email": "a@example.com"}\n[1]\n{"email": "b\xff"}\n')
    spec = SourceSpec("forms", parse_form_file, "landed_forms")
    summary = land_files(spec, sorted(inbox.iterdir()), lake_dir)
    assert (summary.records_read, summary.records_landed, summary.records_quarantined) == (10, 8, 2)
    assert conservation_violations(lake_dir, "forms", "landed_forms").empty
    providers = dict(
        duckdb.sql(
            f"SELECT form_provider, count(*) FROM read_parquet('{lake_dir}/landed/forms/*.parquet') GROUP BY 1"
        ).fetchall()
    )
    assert providers == {"hubspot": 2, "typeform": 1, "webflow": 3, "netlify": 1, "flat": 1}


def test_privacy_file_lands_and_conserves(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    rows = [
        {
            "request_id": "r1",
            "type": "consent",
            "email": "a@example.com",
            "received_at": "2024-01-01T00:00:00Z",
            "purpose": "analytics",
            "granted": True,
        },
        {"request_id": "r2", "type": "nope", "email": "b@example.com", "received_at": "2024-01-01T00:00:00Z"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    lake_dir = tmp_path / "lake"
    summary = land_files(SourceSpec("privacy", parse_privacy_file, "landed_privacy"), [path], lake_dir)
    assert (summary.records_landed, summary.records_quarantined) == (1, 1)
    assert conservation_violations(lake_dir, "privacy", "landed_privacy").empty
    granted = duckdb.sql(
        f"SELECT identifier, purpose, granted FROM read_parquet('{lake_dir}/landed/consent/*.parquet')"
    ).fetchall()
    assert granted == [("a@example.com", "analytics", True)]
