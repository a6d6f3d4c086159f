"""Generic landing of parsed inbox files: once per content, crash-safe, nothing lost."""

import json

import pandas as pd

from uds_pipelines.lib import catalog, connection
from uds_pipelines.lib.ingest.conservation import conservation_violations
from uds_pipelines.lib.ingest.landing import land_files
from uds_pipelines.lib.ingest.stage import FORMS, SURVEYS
from uds_pipelines.lib.quarantine import QuarantineRecord


def _forms_inbox(tmp_path):
    inbox = tmp_path / "inbox" / "forms"
    inbox.mkdir(parents=True)
    rows = [
        {"submission_id": f"s{i}", "email": f"p{i}@example.com", "consent_email_marketing": "yes"}
        for i in range(3)
    ]
    lines = [json.dumps(r) for r in rows] + ['{"submission_id": "s9", "email": ']  # a truncated line
    (inbox / "a.jsonl").write_text("\n".join(lines) + "\n")
    return inbox


def _count(lake_dir, table):
    return connection.connect(lake_dir).execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_lands_records_consents_and_quarantine_then_empties_the_inbox(tmp_path):
    inbox = _forms_inbox(tmp_path)
    lake_dir = tmp_path / "lake"
    summary = land_files(FORMS, sorted(inbox.iterdir()), lake_dir)
    assert (summary.records_landed, summary.records_quarantined) == (3, 1)
    assert list(inbox.iterdir()) == []
    assert _count(lake_dir, "landed_forms") == 3
    assert _count(lake_dir, "landed_consent") == 3
    quarantine = pd.read_parquet(lake_dir / catalog.table("quarantine").path)
    assert quarantine[["source", "source_file", "position"]].values.tolist() == [["form", "a.jsonl", 4]]
    assert "invalid JSON at line 4" in quarantine["reason"].iloc[0]
    assert conservation_violations(
        lake_dir, "forms", FORMS.records_table, {f["sha256"] for f in summary.files}
    ).empty


def test_same_content_dropped_again_lands_once(tmp_path):
    inbox = _forms_inbox(tmp_path)
    lake_dir = tmp_path / "lake"
    content = (inbox / "a.jsonl").read_bytes()
    land_files(FORMS, sorted(inbox.iterdir()), lake_dir)
    (inbox / "copy-of-a.jsonl").write_bytes(content)
    again = land_files(FORMS, sorted(inbox.iterdir()), lake_dir)
    assert again.duplicate_files == 1 and again.records_landed == 0
    assert _count(lake_dir, "landed_forms") == 3
    assert list(inbox.iterdir()) == []


def test_rerun_after_a_crash_before_the_ledger_rewrites_the_same_batch(tmp_path):
    inbox = _forms_inbox(tmp_path)
    lake_dir = tmp_path / "lake"
    content = (inbox / "a.jsonl").read_bytes()
    land_files(FORMS, sorted(inbox.iterdir()), lake_dir)
    # simulate a crash after the data was written but before the ledger row and the inbox removal
    for ledger in (lake_dir / catalog.table("landed_files").path).iterdir():
        ledger.unlink()
    (inbox / "a.jsonl").write_bytes(content)
    land_files(FORMS, sorted(inbox.iterdir()), lake_dir)
    assert _count(lake_dir, "landed_forms") == 3
    assert len(pd.read_parquet(lake_dir / catalog.table("quarantine").path)) == 1


def test_unsupported_file_type_and_vanished_file_are_accounted_for(tmp_path):
    inbox = tmp_path / "inbox" / "surveys"
    inbox.mkdir(parents=True)
    (inbox / "notes.pdf").write_bytes(b"%PDF-1.4 binary")
    gone = inbox / "renamed-away.csv"
    summary = land_files(SURVEYS, [inbox / "notes.pdf", gone], tmp_path / "lake")
    assert summary.vanished_files == 1
    quarantine = pd.read_parquet(tmp_path / "lake" / catalog.table("quarantine").path)
    assert quarantine["reason"].tolist() == ["unsupported file type .pdf for inbox/surveys"]
    assert quarantine["position"].tolist() == [0]


def test_gate_drops_records_with_their_consents_as_quarantine(tmp_path):
    inbox = _forms_inbox(tmp_path)
    lake_dir = tmp_path / "lake"

    def gate(frame, source_file):
        dropped = frame["email"] == "p1@example.com"
        records = [
            QuarantineRecord("form", source_file, int(p), "suppressed", None)
            for p in frame.loc[dropped, "position"]
        ]
        return frame[~dropped], records

    summary = land_files(FORMS, sorted(inbox.iterdir()), lake_dir, gate)
    assert (summary.records_landed, summary.records_quarantined) == (2, 2)
    consents = pd.read_parquet(lake_dir / catalog.table("landed_consent").path)
    assert "p1@example.com" not in set(consents["identifier"])
    reasons = pd.read_parquet(lake_dir / catalog.table("quarantine").path)["reason"].tolist()
    assert "suppressed" in reasons


def test_a_new_version_renamed_in_while_landing_is_not_deleted_unread(tmp_path):
    from uds_pipelines.lib.ingest import inbox

    folder = _forms_inbox(tmp_path)
    claimed = inbox.claim(folder / "a.jsonl")
    assert claimed is not None and claimed.name == "a.jsonl" and not (folder / "a.jsonl").exists()
    (folder / "a.jsonl").write_text(
        '{"submission_id": "new", "email": "n@example.com"}\n'
    )  # the writer's rename
    inbox.finish(claimed)
    assert (folder / "a.jsonl").read_text().startswith('{"submission_id": "new"')


def test_files_claimed_by_a_dead_run_are_put_back(tmp_path):
    from uds_pipelines.lib.ingest import inbox

    folder = _forms_inbox(tmp_path)
    inbox.claim(folder / "a.jsonl")  # the run dies here
    assert [p.name for p in folder.iterdir() if p.is_file()] == []
    assert inbox.release_stale_claims(folder) == 1
    summary = land_files(FORMS, sorted(p for p in folder.iterdir() if p.is_file()), tmp_path / "lake")
    assert summary.records_landed == 3
