"""The whole graph on generated data, in-process through Dagster, against the generator's ground truth."""

import csv
import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs
from uds_pipelines.lib import lake
from uds_pipelines.lib.generator.core import generate
from uds_pipelines_tests.conftest import make_bucket, set_s3_env

AS_OF = "2026-11-01T00:00:00Z"


def _run_full_job(instance) -> dg.ExecuteInProcessResult:
    job = defs().resolve_job_def(c.JOB_FULL_RUN)
    return job.execute_in_process(instance=instance, raise_on_error=False)


@pytest.fixture(scope="module", params=["local", "s3"])
def pipeline(request, tmp_path_factory):
    """Three runs of the full job. With `s3`, lake and exports live in a bucket on a loopback S3
    server and are downloaded afterwards, so every test below checks object storage too."""
    root = tmp_path_factory.mktemp("e2e")
    generated = root / "generated"
    generate(generated, people=120, seed=11)
    data = root / "data"
    shutil.copytree(generated / "inbox", data / "inbox")
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as instance:
        mp.setenv("UDS_DATA_DIR", str(data))
        mp.setenv("UDS_AS_OF", AS_OF)
        bucket = None
        if request.param == "s3":
            endpoint = request.getfixturevalue("s3_endpoint_process")
            set_s3_env(mp, endpoint)
            fs, bucket = make_bucket(endpoint)
            mp.setenv("UDS_LAKE_URL", f"s3://{bucket}/cdp")
        first = _run_full_job(instance)
        if bucket:
            with fs.open(f"{bucket}/cdp/lake/identity/identity_map.parquet", "rb") as handle:
                map_after_first = pd.read_parquet(handle)
        else:
            map_after_first = pd.read_parquet(data / "lake/identity/identity_map.parquet")
        # the same files dropped again, and a second run: nothing lands twice, ids stay put
        shutil.copytree(generated / "inbox", data / "inbox", dirs_exist_ok=True)
        second = _run_full_job(instance)
        late = _redeliver_erased_people(generated / "ground_truth", data / "inbox")
        third = _run_full_job(instance)
        event_log = "\n".join(
            str(record.dagster_event or "") + " " + str(record.user_message)
            for run in (first, second, third)
            for record in instance.all_logs(run.run_id)
        )
        if bucket:
            written_locally = [p for p in ("lake", "exports") if (data / p).exists()]
            assert not written_locally, f"{written_locally} written under UDS_DATA_DIR, not to the bucket"
            for folder in ("lake", "exports"):
                fs.get(f"{bucket}/cdp/{folder}/", str(data / folder) + "/", recursive=True)
        yield {
            "data": data,
            "truth": generated / "ground_truth",
            "first": first,
            "second": second,
            "third": third,
            "late": late,
            "map_after_first": map_after_first,
            "event_log": event_log,
        }


def _redeliver_erased_people(truth_dir: Path, inbox: Path) -> dict:
    """After erasure, an erased person's old webhook arrives again and they fill in a form."""
    people = pd.read_parquet(truth_dir / "people.parquet")
    records = pd.read_parquet(truth_dir / "records.parquet")
    erased = people[people["erased"]].iloc[0]
    customers = records[
        (records["source"] == "stripe_customer") & (records["person_id"] == erased["person_id"])
    ]
    events = []
    for i, customer_id in enumerate(customers["record_id"]):
        obj = {"id": customer_id, "object": "customer", "email": erased["email"], "name": "Late Delivery"}
        events.append({"id": f"evt_late_{i}", "object": "event", "type": "customer.updated", "created": 1790000000,
                       "livemode": False, "api_version": "2024-06-20", "data": {"object": obj}})  # fmt: skip
    (inbox / "stripe" / "late.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    form = {"submission_id": "late-form-1", "email": erased["email"].upper(), "first_name": "Late"}
    (inbox / "forms" / "late.jsonl").write_text(json.dumps(form) + "\n")
    # and someone else asks what we hold about them, naming only an email variant
    per_person = records[records["source"].isin(["stripe_customer", "form_submission", "survey_response"])]
    busiest = per_person[~per_person["person_id"].isin(people.loc[people["erased"], "person_id"])]
    subject_id = busiest.groupby("person_id").size().idxmax()
    subject = people.set_index("person_id").loc[subject_id]
    request = {"request_id": "dsr_access_1", "type": "access", "email": f"  {subject['email'].upper()} ",
               "received_at": "2026-11-01T00:00:00Z"}  # fmt: skip
    (inbox / "privacy" / "late.jsonl").write_text(json.dumps(request) + "\n")
    return {"email": erased["email"], "stripe_events": len(events), "access_person": subject_id}


def test_both_runs_succeed_and_every_check_passes(pipeline):
    for result in (pipeline["first"], pipeline["second"], pipeline["third"]):
        assert result.success
        evaluations = [
            e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
        ]
        assert evaluations, "asset checks ran"
        failed = [ev.check_name for ev in evaluations if not ev.passed]
        assert failed == []


def test_inbox_is_emptied_once_landed(pipeline):
    assert [p for p in (pipeline["data"] / "inbox").rglob("*") if p.is_file()] == []


def _erased_people(pipeline) -> set[str]:
    people = pd.read_parquet(pipeline["truth"] / "people.parquet")
    return set(people.loc[people["erased"], "person_id"])


def test_quarantine_matches_ground_truth_per_source(pipeline):
    """Every malformed record is quarantined, except those erasure removed since (they held an
    erased person's identifiers)."""
    truth = pd.read_parquet(pipeline["truth"] / "records.parquet")
    bad = truth[truth["expected"] == "quarantine"]
    names = {
        "stripe_event": "stripe",
        "survey_response": "survey",
        "form_submission": "form",
        "privacy_request": "privacy",
    }
    at_most = bad.groupby("source").size().rename(index=names)
    at_least = (
        bad[~bad["person_id"].isin(_erased_people(pipeline))].groupby("source").size().rename(index=names)
    )
    con = duckdb.connect()
    query = f"SELECT source, count(*) FROM '{pipeline['data']}/lake/quarantine/*.parquet' WHERE reason <> 'suppressed' GROUP BY 1"
    got = dict(con.execute(query).fetchall())
    assert set(got) == set(at_most.index)
    for source in at_most.index:
        assert at_least.get(source, 0) <= got[source] <= at_most[source], source


def test_landed_events_are_unique_and_complete(pipeline):
    truth = pd.read_parquet(pipeline["truth"] / "records.parquet")
    events = truth[(truth["source"] == "stripe_event") & (truth["expected"] == "land")]
    expected_events = set(events.loc[~events["person_id"].isin(_erased_people(pipeline)), "record_id"])
    con = duckdb.connect()
    rows = con.execute(f"SELECT event_id FROM '{pipeline['data']}/lake/landed/stripe/*.parquet'").fetchall()
    landed = [r[0] for r in rows]
    assert len(landed) == len(set(landed)), "an event landed twice"
    assert set(landed) == expected_events


def _truth_with_record_ids(pipeline) -> pd.DataFrame:
    """Ground truth of person records; exports without ids (HubSpot, Google Forms) are matched by
    file and position, since their record ids are hashes the pipeline derives."""
    truth = pd.read_parquet(pipeline["truth"] / "records.parquet")
    truth = truth[truth["source"].isin(["stripe_customer", "survey_response", "form_submission"])]
    truth = truth[truth["person_id"].notna() & (truth["expected"] == "land")]
    truth = truth[~truth["person_id"].isin(_erased_people(pipeline))].copy()
    lake_dir = pipeline["data"] / "lake"
    con = duckdb.connect()
    located = con.execute(
        f"""SELECT response_id AS rid, 'surveys/' || source_file AS file, position FROM '{lake_dir}/landed/surveys/responses/*.parquet'
            UNION ALL
            SELECT submission_id, 'forms/' || source_file, position FROM '{lake_dir}/landed/forms/*.parquet'"""
    ).df()
    truth = truth.merge(located, on=["file", "position"], how="left")
    truth["record_id"] = truth["record_id"].fillna(truth["rid"])
    return truth.drop(columns=["rid"])


def test_identity_resolution_against_ground_truth(pipeline):
    truth = _truth_with_record_ids(pipeline)
    id_map = pd.read_parquet(pipeline["data"] / "lake/identity/identity_map.parquet")
    assert not id_map.duplicated(["source", "record_id"]).any()
    joined = truth.merge(id_map, on="record_id")
    assert len(joined) == len(truth), "every landed person record has a customer"

    def pairs(groups) -> int:
        return int(sum(n * (n - 1) // 2 for n in groups.size()))

    true_pos = pairs(joined.groupby(["customer_id", "person_id"]))
    predicted, actual = pairs(joined.groupby("customer_id")), pairs(joined.groupby("person_id"))
    assert true_pos / predicted >= 0.99, "records of different people were merged"
    # The generator leaves some records with no shared strong identifier (a Stripe customer without
    # email, a form with only a junk email): deterministic matching cannot and must not join them.
    assert true_pos / actual >= 0.9, "records of one person were left apart"


def test_customer_ids_are_stable_across_runs(pipeline):
    before = pipeline["map_after_first"].set_index(["source", "record_id"])["customer_id"]
    after = pd.read_parquet(pipeline["data"] / "lake/identity/identity_map.parquet").set_index(
        ["source", "record_id"]
    )["customer_id"]
    assert before.equals(after.loc[before.index])


def test_identity_change_log_and_side_tables(pipeline):
    identity = pipeline["data"] / "lake/identity"
    changes = pd.read_parquet(identity / "identity_changes.parquet")
    first_run = changes[changes["run_id"] == pipeline["first"].run_id]
    assert set(first_run["change"]) == {"new"}
    assert set(first_run["customer_id"]) == set(pipeline["map_after_first"]["customer_id"])
    # erasure in a later run takes records away: logged with that run, never under the first
    later = changes[changes["run_id"] != pipeline["first"].run_id]
    assert set(later["run_id"]) <= {pipeline["second"].run_id, pipeline["third"].run_id}
    # refused phones and emails are kept with their reason, never their value
    rejected = pd.read_parquet(identity / "rejected_identifiers.parquet")
    assert list(rejected.columns) == ["source", "record_id", "id_type", "reason"]
    assert "placeholder number" in set(rejected["reason"])  # the generator's shared junk phones
    assert (identity / "match_links.parquet").exists()  # empty: matching is deterministic here
    assert pd.read_parquet(identity / "match_links.parquet").empty
    assert pd.read_parquet(identity / "match_review.parquet").empty  # written, empty, as match_links


def test_profiles_contract_columns_and_unique_ids(pipeline):
    profiles = pd.read_parquet(pipeline["data"] / "lake/profiles/customer_profiles.parquet")
    contract = ["customer_id", "email", "phone", "first_name", "last_name", "country", "first_seen_at",
                "last_seen_at", "lifetime_value", "currency", "orders_count", "nps_latest"]  # fmt: skip
    assert set(contract) <= set(profiles.columns)
    assert {
        "consent_email_marketing",
        "consent_sms_marketing",
        "consent_ad_targeting",
        "consent_analytics",
    } <= set(profiles.columns)
    assert profiles["customer_id"].is_unique and len(profiles) > 0
    phones = profiles["phone"].dropna()
    assert phones.str.match(r"^\+[1-9]\d{6,14}$").all()
    assert (profiles["orders_count"] > 0).any() and (profiles["lifetime_value"] > 0).any()


def test_audience_files_hold_only_segment_members_with_consent(pipeline):
    data = pipeline["data"]
    membership = pd.read_parquet(data / "lake/segments/segment_membership.parquet")
    consent = pd.read_parquet(data / "lake/consent/effective_consent.parquet")
    audience_members = pd.read_parquet(data / "lake/audiences/audience_members.parquet")
    exported_any = False
    for manifest_path in (data / "exports/audiences").glob("*/manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        with open(manifest_path.parent / manifest["file"], newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
        assert reader.fieldnames == manifest["columns"]
        counts = manifest["counts"]
        assert counts["in_segment"] == (
            counts["exported"]
            + counts["excluded_no_consent"]
            + counts["excluded_erased_or_suppressed"]
            + counts["excluded_no_match_key"]
        )
        assert len(rows) == counts["exported"]
        members = set(membership.loc[membership["segment"] == manifest["segment"], "customer_id"])
        granted = set(
            consent.loc[(consent["purpose"] == manifest["purpose"]) & consent["granted"], "customer_id"]
        )
        if "customer_id" in manifest["columns"] or "extern_id" in manifest["columns"]:
            ids = {row.get("customer_id") or row["extern_id"] for row in rows}
        else:  # Google Customer Match files carry no id of ours: the rows they were written from
            ids = set(
                audience_members.loc[audience_members["audience"] == manifest["audience"], "customer_id"]
            )
            assert len(ids) == len(rows)
        assert ids <= members
        assert ids <= granted
        exported_any = exported_any or bool(ids)
    assert exported_any, "no audience exported anyone: the test would prove nothing"


def test_warehouse_holds_the_published_tables(pipeline):
    import sqlalchemy as sa

    from uds_pipelines.lib.warehouse import WAREHOUSE_TABLES

    engine = sa.create_engine(f"sqlite:///{pipeline['data'] / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        counts = {
            name: conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar() for name in WAREHOUSE_TABLES
        }
        keys = {
            name: sa.inspect(conn).get_pk_constraint(name)["constrained_columns"] for name in WAREHOUSE_TABLES
        }
    engine.dispose()
    assert counts["customer_profiles"] == len(
        pd.read_parquet(pipeline["data"] / "lake/profiles/customer_profiles.parquet")
    )
    assert counts["segment_membership"] == len(
        pd.read_parquet(pipeline["data"] / "lake/segments/segment_membership.parquet")
    )
    assert all(n > 0 for n in counts.values()), counts
    assert keys == {name: list(spec.keys) for name, spec in WAREHOUSE_TABLES.items()}


def test_no_personal_data_in_the_event_log(pipeline):
    people = pd.read_parquet(pipeline["truth"] / "people.parquet")
    log = pipeline["event_log"].lower()
    leaked = [e for e in people["email"].dropna() if e.lower() in log]
    leaked += [p for p in people["phone_e164"].dropna() if p in log]
    full_names = (people["first_name"] + " " + people["last_name"]).str.lower()
    leaked += [name for name in full_names if name in log]
    assert leaked == []


def test_erased_people_are_gone_from_every_file(pipeline):
    people = pd.read_parquet(pipeline["truth"] / "people.parquet")
    erased = people[people["erased"]]
    assert len(erased) > 0, "the generated set has erasure requests"
    profiles = pd.read_parquet(pipeline["data"] / "lake/profiles/customer_profiles.parquet")
    assert not set(erased["email"].str.lower()) & set(profiles["email"].dropna().str.lower())
    con = duckdb.connect()
    for path in (pipeline["data"]).rglob("*"):
        if not path.is_file() or path.name == ".uds_key":
            continue
        if path.suffix == ".parquet":
            text = " ".join(map(str, con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall())).lower()
        else:
            text = path.read_bytes().decode("utf-8", errors="ignore").lower()
        for email in erased["email"].str.lower():
            assert email not in text, f"an erased email remains in {path.relative_to(pipeline['data'])}"


def test_no_batch_is_left_held_after_screening(pipeline):
    held = list((pipeline["data"] / "lake").rglob("*" + lake.HELD_SUFFIX))
    assert held == []
    assert list((pipeline["data"] / "lake/landed/stripe").glob("*.parquet"))


def test_records_of_erased_people_arriving_later_are_dropped_at_landing(pipeline):
    late = pipeline["late"]
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT source, source_file, reason, raw FROM '{pipeline['data']}/lake/quarantine/*.parquet' "
        "WHERE source_file = 'late.jsonl'"
    ).fetchall()
    assert sorted((r[0], r[2]) for r in rows) == sorted(
        [("form", "suppressed")] + [("stripe", "suppressed")] * late["stripe_events"]
    )
    assert all(r[3] is None for r in rows), "no raw content is kept for suppressed records"
    landed = con.execute(
        f"SELECT count(*) FROM '{pipeline['data']}/lake/landed/stripe/*.parquet' WHERE event_id LIKE 'evt_late_%'"
    ).fetchone()[0]
    assert landed == 0


def test_lifetime_value_and_orders_match_ground_truth(pipeline):
    """For every person whose Stripe records resolved to one customer, LTV and order count equal
    what the generator charged minus what it refunded (one order per charge, invoices not twice)."""
    totals = pd.read_parquet(pipeline["truth"] / "stripe_totals.parquet")
    totals = totals[~totals["person_id"].isin(_erased_people(pipeline))]
    records = pd.read_parquet(pipeline["truth"] / "records.parquet")
    customers = records[records["source"] == "stripe_customer"][["record_id", "person_id"]]
    id_map = pd.read_parquet(pipeline["data"] / "lake/identity/identity_map.parquet")
    owners = customers.merge(id_map, on="record_id").groupby("person_id")["customer_id"].agg(set)
    profiles = pd.read_parquet(pipeline["data"] / "lake/profiles/customer_profiles.parquet").set_index(
        "customer_id"
    )
    checked = 0
    for person_id, rows in totals.groupby("person_id"):
        ids = owners.get(person_id, set())
        if len(ids) != 1 or len(rows) != 1:
            continue  # person split across customers, or paying in several currencies
        row = rows.iloc[0]
        divisor = 1 if row["currency"] in ("jpy", "krw") else 100
        profile = profiles.loc[next(iter(ids))]
        assert profile["currency"] == row["currency"]
        assert profile["lifetime_value"] == pytest.approx(
            (row["charged_minor"] - row["refunded_minor"]) / divisor
        )
        assert profile["orders_count"] == row["charges"]
        checked += 1
    assert checked >= 20, "too few people to say anything"


def test_access_request_report_is_complete_against_ground_truth(pipeline):
    person_id = pipeline["late"]["access_person"]
    report_path = pipeline["data"] / "exports/access_requests/dsr_access_1.json"
    report = json.loads(report_path.read_text())
    text = json.dumps(report).lower()
    people = pd.read_parquet(pipeline["truth"] / "people.parquet").set_index("person_id")
    assert people.loc[person_id, "email"].lower() in text
    truth = _truth_with_record_ids(pipeline)
    mine = truth[truth["person_id"] == person_id]
    id_map = pd.read_parquet(pipeline["data"] / "lake/identity/identity_map.parquet")
    profiles = report["profile"] if isinstance(report["profile"], list) else [report["profile"]]
    customer_ids = {p["customer_id"] for p in profiles}
    assert customer_ids, "the profile is part of the report"
    # the request named one email; the report covers every record of the resolved person, and
    # those are exactly the person's true records that resolution joined to that email
    held = id_map[id_map["customer_id"].isin(customer_ids)]
    assert [r for r in held["record_id"] if str(r).lower() not in text] == []
    assert set(held["record_id"]) <= set(mine["record_id"])
    assert len(held) >= 2
