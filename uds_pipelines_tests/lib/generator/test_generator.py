"""Determinism, conservation and ground-truth coverage of the synthetic data generator."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq

from uds_pipelines.cli.generate import main as cli_main
from uds_pipelines.cli.generate import main as generate_main
from uds_pipelines.lib.generator import generate
from uds_pipelines_tests.lib.generator.inbox_reader import read_inbox

REPO = Path(__file__).resolve().parents[3]


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    a = tree_hashes(_gen(tmp_path / "a", seed=5))
    b = tree_hashes(_gen(tmp_path / "b", seed=5, workers=2))
    c = tree_hashes(_gen(tmp_path / "c", seed=6))
    assert a == b
    assert "ground_truth/records.parquet" in a and any(k.startswith("inbox/stripe/") for k in a)
    shared = set(a) & set(c)
    assert sum(a[k] != c[k] for k in shared) >= len(shared) // 2


def _gen(out: Path, seed: int, workers: int = 1) -> Path:
    generate(out, people=60, seed=seed, workers=workers)
    return out


def test_multiple_stripe_chunks_are_parallel_safe(tmp_path, monkeypatch):
    import uds_pipelines.lib.generator.core as core

    monkeypatch.setattr(core, "UNIQUE_PER_CHUNK", 150)
    one = generate(tmp_path / "one", people=40, seed=3, workers=1)
    two = generate(tmp_path / "two", people=40, seed=3, workers=2)
    assert tree_hashes(tmp_path / "one") == tree_hashes(tmp_path / "two")
    files = {p.name for p in (tmp_path / "one" / "inbox" / "stripe").glob("events_0*.jsonl")}
    assert len(files) >= 2
    assert one.stripe_unique_events == two.stripe_unique_events == 320


def test_every_inbox_record_is_in_ground_truth(generated, records):
    out, summary = generated
    found = read_inbox(out / "inbox")
    # stripe_customer rows point at the line of their customer.created event; all others are one per record.
    delivered = records[records["source"] != "stripe_customer"]
    truth = {(r.file, int(r.position)): r for r in delivered.itertuples()}
    assert len(truth) == len(delivered), "each (file, position) is one record"
    assert {(f, p) for f, p, _, _ in found} == set(truth)
    for file, pos, well_formed, record_id in found:
        row = truth[(file, pos)]
        if well_formed:
            assert row.expected in ("land", "duplicate"), (file, pos, row.note)
            if record_id is not None:
                assert row.record_id == record_id
        else:
            assert row.expected == "quarantine", (file, pos, row.note)
            assert row.note
    assert sum(summary.counts.values()) == len(records)


def test_ground_truth_sources_and_malformed_kinds(records):
    assert set(records["source"]) == {
        "stripe_event",
        "stripe_customer",
        "survey_response",
        "form_submission",
        "privacy_request",
    }
    bad = records[records["expected"] == "quarantine"]
    notes = set(bad["note"])
    for kind in (
        "truncated JSON",
        "wrong type: created is a string",
        "event without id",
        "event without data.object",
        "JSON array where an object is expected",
        "invalid utf-8 line",
        "truncated JSON file",
    ):
        assert kind in notes
    assert any(n.startswith("ragged row") for n in notes)
    stripe_lines = records[records["source"] == "stripe_event"]
    share = (stripe_lines["expected"] == "quarantine").mean()
    assert 0.005 < share < 0.03
    landed = records[records["expected"] == "land"]
    assert landed["person_id"].notna().all()


def test_duplicates_are_about_three_percent_and_repeat_landed_ids(records):
    events = records[records["source"] == "stripe_event"]
    unique = events[events["expected"] == "land"]
    dups = events[events["expected"] == "duplicate"]
    assert 0.02 <= len(dups) / len(unique) <= 0.04
    assert set(dups["record_id"]) <= set(unique["record_id"])
    assert unique["record_id"].is_unique
    assert (dups["file"].str.contains("redelivery")).any() and (dups["file"].str.contains("events_")).any()


def test_stripe_customers_point_at_landed_customer_created(records):
    customers = records[records["source"] == "stripe_customer"]
    assert customers["record_id"].str.startswith("cus_").all()
    assert customers["record_id"].is_unique
    per_person = customers.groupby("person_id").size()
    assert per_person.max() >= 2, "some people hold two Stripe customers"


def test_people_table_schema(people):
    assert list(people.columns) == [
        "person_id",
        "email",
        "phone_e164",
        "first_name",
        "last_name",
        "country",
        "date_of_birth",
        "address_line1",
        "city",
        "postcode",
        "erased",
    ]
    assert people["person_id"].is_unique and people["email"].is_unique and people["phone_e164"].is_unique
    assert people["erased"].any() and not people["erased"].all()


def test_cli_writes_inbox_and_ground_truth(tmp_path, capsys):
    code = cli_main(
        [
            "--people",
            "20",
            "--seed",
            "2",
            "--out",
            str(tmp_path),
            "--stripe-events",
            "90",
            "--start",
            "2025-03-01",
            "--end",
            "2025-09-01",
        ]
    )
    assert code == 0
    assert "stripe_event" in capsys.readouterr().out
    for folder in ("stripe", "surveys", "forms", "privacy"):
        assert any((tmp_path / "inbox" / folder).iterdir())
    records = pq.read_table(tmp_path / "ground_truth" / "records.parquet").to_pandas()
    assert (records[records["source"] == "stripe_event"]["expected"] == "land").sum() == 90
    assert not (tmp_path / ".incoming").exists()


def test_cli_rejects_bad_range(tmp_path, capsys):
    assert (
        cli_main(
            [
                "--people",
                "5",
                "--seed",
                "1",
                "--out",
                str(tmp_path),
                "--start",
                "2025-01-01",
                "--end",
                "2025-01-10",
            ]
        )
        == 2
    )
    assert "end must be" in capsys.readouterr().err


def test_bundled_samples_match_generator(tmp_path):
    """data/samples is exactly `uds-generate --people 200 --seed 7 --sessions 600 --buyers 400 --out data/samples`."""
    argv = ["--people", "200", "--seed", "7", "--sessions", "600", "--buyers", "400", "--out", str(tmp_path)]
    assert generate_main(argv) == 0
    for part in ("inbox", "ground_truth"):
        assert tree_hashes(REPO / "data" / "samples" / part) == tree_hashes(tmp_path / part)


def test_consent_truth_refers_to_landed_records(generated, records):
    consents = pq.read_table(generated[0] / "ground_truth" / "consents.parquet").to_pandas()
    assert len(consents) > 50
    landed = records[records["expected"] == "land"]
    keyed = set(zip(landed["file"], landed["record_id"], strict=True))
    with_id = consents[consents["record_id"].notna()]
    for row in with_id.itertuples():
        assert (row.file, row.record_id) in keyed, row.record_id
    assert set(consents["purpose"]) <= {"email_marketing", "sms_marketing", "ad_targeting", "analytics"}
    assert consents["captured_at"].notna().all() and consents["person_id"].notna().all()
    lower = consents["identifier"].str.strip().str.lower()
    assert not lower.isin(["test@test.com", "noreply@example.com"]).any()
