"""`external_id`: an app's own user id, from Qualtrics ExternalReference, Typeform hidden fields, form
fields and Stripe customer metadata, landed, staged and linked as an identifier."""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from uds_pipelines.lib import catalog, connection, lake, lake_views
from uds_pipelines.lib.config import DEFAULT_EXTERNAL_ID_FIELDS, Settings
from uds_pipelines.lib.guardrail_config import DEFAULT_PRIORITY, DEFAULT_TYPE_LIMITS
from uds_pipelines.lib.identity import GuardrailConfig, resolve_identities, write_outputs
from uds_pipelines.lib.identity.inputs import build_identity_inputs
from uds_pipelines.lib.identity.sources import identifiers_sql, person_records_sql
from uds_pipelines.lib.ingest.external_ids import field_key, first_external_id, is_external_id_field
from uds_pipelines.lib.ingest.forms import parse_form_file
from uds_pipelines.lib.ingest.landing import SourceSpec, land_files
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files
from uds_pipelines.lib.ingest.surveys import parse_survey_file
from uds_pipelines.lib.staging.stripe import build_stripe_staging

T0 = 1_700_000_000
USER = "abc123456"  # the hidden `user_id` of Typeform's own webhook example


def _rewrite_csv(source: Path, target: Path, header: str, values: list[str], header_row: int = 0) -> None:
    """Copy a real export, setting column `header` (named in header row `header_row`) per data row."""
    text = source.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    index = rows[header_row].index(header)
    skip = {"qualtrics_sample_3header.csv": 3, "qualtrics_sample_legacy_2header.csv": 2}[source.name]
    for row, value in zip(rows[skip:], values, strict=True):
        row[index] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    target.write_text(out.getvalue(), encoding="utf-8")


def _fields(tmp_path: Path, value: str | None = None) -> tuple[str, ...]:
    env = {"UDS_DATA_DIR": str(tmp_path)} | ({} if value is None else {"UDS_EXTERNAL_ID_FIELDS": value})
    return Settings.from_env(env).external_id_fields


def test_field_names_compare_loosely_and_the_list_is_configurable(tmp_path: Path) -> None:
    defaults = _fields(tmp_path)
    assert defaults == DEFAULT_EXTERNAL_ID_FIELDS
    for name in ("ExternalReference", "External Data Reference", "ExternalDataReference", "user_id", "USER ID",
                 "userId", "external-id", "customer_ref"):  # fmt: skip
        assert is_external_id_field(name, defaults), name
    assert not is_external_id_field("email", defaults) and not is_external_id_field("Custom Data 1", defaults)
    assert field_key("External Data Reference") == "externaldatareference"
    assert "External Data Reference" in DEFAULT_EXTERNAL_ID_FIELDS
    assert first_external_id([("user_id", "  "), ("email", "x"), ("external_id", " u-1 ")]) == "u-1"
    listed = _fields(tmp_path, "CRM id, Custom Data 1")
    assert is_external_id_field("crm_id", listed) and is_external_id_field("custom data 1", listed)
    assert not is_external_id_field("user_id", listed)
    assert _fields(tmp_path, "") == () and not is_external_id_field("user_id", _fields(tmp_path, ""))


def test_landing_passes_the_configured_fields_to_the_parsers(tmp_path: Path) -> None:
    """`UDS_EXTERNAL_ID_FIELDS` reaches surveys and forms through `Settings`, never the environment."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    form = inbox / "forms.jsonl"
    form.write_text(
        json.dumps({"submission_id": "s1", "email": "a@example.org", "CRM id": "C-9", "user_id": "U-1"})
    )
    survey = inbox / "survey.csv"
    survey.write_text("email,CRM id,user_id\nb@example.org,C-8,U-2\n")
    listed = _fields(tmp_path, "CRM id")
    forms = SourceSpec("forms", parse_form_file, "landed_forms", reads_external_ids=True)
    surveys = SourceSpec("surveys", parse_survey_file, "landed_survey_responses",
                         {"answers": "landed_survey_answers"}, reads_external_ids=True)  # fmt: skip
    assert parse_form_file(form, external_id_fields=listed).records["external_id"].tolist() == ["C-9"]
    assert parse_survey_file(survey, external_id_fields=listed).records["external_id"].tolist() == ["C-8"]
    lake_dir = tmp_path / "lake"
    land_files(forms, [form], lake_dir, external_id_fields=listed)
    land_files(surveys, [survey], lake_dir, external_id_fields=listed)
    landed_forms = pd.read_parquet(lake_dir / "landed/forms")
    landed_surveys = pd.read_parquet(lake_dir / "landed/surveys/responses")
    assert landed_forms["external_id"].tolist() == ["C-9"] and landed_surveys["external_id"].tolist() == [
        "C-8"
    ]


def test_qualtrics_external_reference(realdata: Path, tmp_path: Path) -> None:
    # the real sample's ExternalReference is blank: a column, NULL
    sample = realdata / "surveys" / "qualtrics_sample_3header.csv"
    assert parse_survey_file(sample).records["external_id"].tolist() == [None]
    path = tmp_path / "sample.csv"
    _rewrite_csv(sample, path, "ExternalReference", [" panel-7781 "])
    result = parse_survey_file(path)
    assert result.records["external_id"].tolist() == ["panel-7781"]
    assert result.quarantine == []
    # the legacy 2-row export names it `ExternalDataReference` in its second header row
    legacy = realdata / "surveys" / "qualtrics_sample_legacy_2header.csv"
    path = tmp_path / "legacy.csv"
    _rewrite_csv(legacy, path, "ExternalDataReference", ["Panel-7781"], header_row=1)
    assert parse_survey_file(path).records["external_id"].tolist() == ["Panel-7781"]


def test_typeform_export_hidden_field_is_the_external_id_and_stays_an_answer(tmp_path: Path) -> None:
    path = tmp_path / "typeform.csv"
    path.write_text(
        "#,What is your name?,user_id,utm_source,Start Date (UTC),Submit Date (UTC),Network ID\n"
        "aaaa1111,Ann,U-42,news,2024-01-01 10:00:00,2024-01-01 10:01:00,n1\n"
        "bbbb2222,Bob,  ,ads,2024-01-01 10:00:00,2024-01-01 10:02:00,n2\n"
    )
    result = parse_survey_file(path)
    assert result.info["layout"] == "typeform"
    assert [v if isinstance(v, str) else None for v in result.records["external_id"]] == ["U-42", None]
    assert "U-42" in set(result.extra["answers"]["answer"])  # the hidden field is still an answer


def test_typeform_webhook_hidden_user_id(realdata: Path) -> None:
    result = parse_form_file(realdata / "forms" / "typeform_webhook_docs_example.json")
    row = result.records.iloc[0]
    assert row["external_id"] == USER
    assert json.loads(row["fields_json"])["_hidden"] == {"user_id": USER}  # kept as before


def test_flat_forms_first_non_blank_match_wins(tmp_path: Path) -> None:
    path = tmp_path / "forms.jsonl"
    rows = [
        {"submission_id": "s1", "email": "a@example.org", "user_id": " ", "External Data Reference": "X-1",
         "customer_ref": "X-2"},
        {"submission_id": "s2", "user_id": 12345},  # an external id alone is a usable submission
        {"submission_id": "s3", "email": "c@example.org", "userid": ""},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = parse_form_file(path)
    assert result.quarantine == []
    assert result.records["external_id"].tolist() == ["X-1", "12345", None]
    assert json.loads(result.records["fields_json"][0])["customer_ref"] == "X-2"


def _event(event_id: str, obj: dict, created: int = T0) -> dict:
    return {"id": event_id, "object": "event", "created": created, "type": "customer.created",
            "livemode": False, "api_version": "2024-06-20", "data": {"object": obj}}  # fmt: skip


def _land_stripe(tmp_path: Path, lake_dir: Path, events: list[dict]) -> None:
    path = tmp_path / "inbox" / "stripe" / "events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    assert land_stripe_files([path], lake_dir).records_quarantined == 0


def _customer(realdata: Path, customer_id: str, metadata: dict) -> dict:
    obj = copy.deepcopy(json.loads((realdata / "stripe" / "openapi_fixture_customer.json").read_text()))
    return obj | {"id": customer_id, "email": f"{customer_id}@example.org", "metadata": metadata}


def test_stripe_customer_metadata_user_id(realdata: Path, tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    _land_stripe(tmp_path, lake_dir, [
        _event("evt_1", _customer(realdata, "cus_A", {"plan": "pro", "user_id": f" {USER} "})),
        _event("evt_2", _customer(realdata, "cus_B", {"UserId": "  ", "external_id": "Ext-9"})),
        _event("evt_3", _customer(realdata, "cus_C", {})),  # the real fixture's empty metadata
        _event("evt_4", _customer(realdata, "cus_D", {"order": "o-1"})),
    ])  # fmt: skip
    build_stripe_staging(lake_dir)
    rows = duckdb.sql(
        f"SELECT customer_id, external_id FROM '{lake.parquet_glob(catalog.path(lake_dir, 'stripe_customers'))}' ORDER BY 1"
    ).fetchall()
    assert rows == [("cus_A", USER), ("cus_B", "Ext-9"), ("cus_C", None), ("cus_D", None)]


def test_identifiers_external_id_is_opaque_and_never_a_blank_email_or_phone(tmp_path: Path) -> None:
    con = connection.connect(default_region="US")
    con.execute(
        """CREATE TABLE records AS SELECT *, TIMESTAMPTZ '2026-01-01' AS observed_at FROM (VALUES
            ('form', 'f1', ' AbC-1 ', NULL, NULL, NULL),
            ('form', 'f2', '   ', NULL, NULL, NULL),
            ('form', 'f3', '', NULL, NULL, NULL),
            ('form', 'f4', 'Ann@Example.org', 'ann@example.org', NULL, NULL),
            ('form', 'f5', '+14155550123', NULL, '(415) 555-0123', 'US'),
            ('survey', 's1', NULL, NULL, NULL, NULL)
        ) t(source, record_id, external_id, email, phone, country)"""
    )
    got = con.execute(
        f"SELECT record_id, id_value FROM ({identifiers_sql('US', records_table='records')}) WHERE id_type = 'external_id'"
    ).fetchall()
    assert got == [("f1", "AbC-1")]
    # person records written before the column still work: their view reads it as NULL
    lake_dir = tmp_path / "lake"
    old = con.execute("SELECT * EXCLUDE (external_id) FROM records").df()
    lake.write_parquet_atomic(old, catalog.path(lake_dir, "person_records"))
    con = connection.connect(lake_dir, default_region="US")
    assert con.execute(
        f"SELECT count(*) FROM ({identifiers_sql('US')}) WHERE id_type = 'external_id'"
    ).fetchone() == (0,)


def _land(tmp_path: Path, lake_dir: Path, source: str, files: dict[str, Path | str]) -> None:
    inbox = tmp_path / "inbox" / source
    inbox.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copyfile(content, inbox / name)
        else:
            (inbox / name).write_text(content)
    parse = parse_form_file if source == "forms" else parse_survey_file
    table = "landed_forms" if source == "forms" else "landed_survey_responses"
    extra = {} if source == "forms" else {"answers": "landed_survey_answers"}
    summary = land_files(SourceSpec(source, parse, table, extra), sorted(inbox.iterdir()), lake_dir)
    assert summary.records_quarantined == 0


def _resolve(tmp_path: Path, lake_dir: Path) -> dict[tuple[str, str], str]:
    con = connection.connect(lake_dir, default_region="US")
    build_identity_inputs(con, lake_dir, "US")
    result = resolve_identities(  # the identifiers just built, no previous map: the lake's views
        con, config=GuardrailConfig(), run_id="r1", now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    written = write_outputs(con, lake_dir, result)
    frame = pd.read_parquet(written["identity_map"])
    return {(s, r): c for s, r, c in frame[["source", "record_id", "customer_id"]].itertuples(index=False)}


def test_form_survey_and_stripe_sharing_only_an_external_id_are_one_person(
    realdata: Path, tmp_path: Path
) -> None:
    lake_dir = tmp_path / "lake"
    # Typeform's example (laura@example.com, hidden user_id) and the Qualtrics sample (no email,
    # no phone) with the same id as its ExternalReference: nothing else in common.
    survey = tmp_path / "qualtrics_sample_3header.csv"
    _rewrite_csv(realdata / "surveys" / "qualtrics_sample_3header.csv", survey, "ExternalReference", [USER])
    blank_forms = "".join(json.dumps(r) + "\n" for r in [
        {"submission_id": "blank1", "email": "one@example.org", "user_id": "   "},
        {"submission_id": "blank2", "email": "two@example.org", "user_id": "   "},
    ])  # fmt: skip
    _land(tmp_path, lake_dir, "forms", {
        "typeform.json": realdata / "forms" / "typeform_webhook_docs_example.json", "blank.jsonl": blank_forms,
    })  # fmt: skip
    _land(tmp_path, lake_dir, "surveys", {"qualtrics.csv": survey})
    _land_stripe(tmp_path, lake_dir, [_event("evt_1", _customer(realdata, "cus_A", {"user_id": USER}))])
    build_stripe_staging(lake_dir)
    ids = _resolve(tmp_path, lake_dir)
    typeform = next(k for k in ids if k[0] == "form" and not k[1].startswith("blank"))
    assert ids[typeform] == ids[("survey", "R_2YPOQ602ER1jkf1")] == ids[("stripe", "cus_A")]
    # blank (whitespace) external ids link nothing
    assert ids[("form", "blank1")] != ids[("form", "blank2")]
    assert len({ids[("form", "blank1")], ids[("form", "blank2")], ids[typeform]}) == 3
    identifiers = pd.read_parquet(catalog.path(lake_dir, "identifiers"))
    external = identifiers[identifiers["id_type"] == "external_id"]
    assert sorted(external["id_value"]) == [USER, USER, USER]


def test_landed_files_from_before_the_column_still_read(realdata: Path, tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    _land(
        tmp_path,
        lake_dir,
        "forms",
        {"typeform.json": realdata / "forms" / "typeform_webhook_docs_example.json"},
    )
    _land(tmp_path, lake_dir, "surveys", {"q.csv": realdata / "surveys" / "qualtrics_sample_3header.csv"})
    for folder in (catalog.table("landed_forms").path, catalog.table("landed_survey_responses").path + ""):
        for path in (lake_dir / folder).glob("*.parquet"):
            old = pd.read_parquet(path).drop(columns=["external_id"])
            lake.write_parquet_atomic(old, path)
    build_stripe_staging(lake_dir)
    for staged in lake_views.table_files(lake_dir, "stripe_customers"):
        lake.write_parquet_atomic(pd.read_parquet(staged).drop(columns=["external_id"]), staged)
    con = connection.connect(lake_dir, default_region="US")
    rows = con.execute(f"SELECT source, external_id FROM ({person_records_sql()}) ORDER BY 1").fetchall()
    assert rows == [("form", None), ("survey", None)]


def test_guardrail_defaults_rank_external_id_after_the_stripe_customer() -> None:
    # a behavioural-events userId (`event_user`) ranks with the external id, before the email
    assert DEFAULT_PRIORITY[:4] == ("stripe_customer", "external_id", "event_user", "email")
    assert DEFAULT_TYPE_LIMITS["external_id"] == 5
    assert GuardrailConfig().max_values_per_type["external_id"] == 5


def test_a_component_with_too_many_external_ids_is_cut(tmp_path: Path) -> None:
    from uds_pipelines_tests.lib.identity.helpers import Runner, ids_by_record

    # one shared email holds six records, each with its own app user id: over the limit of 5,
    # the weakest type (email) is cut and the six records stay apart
    records = {
        ("form", f"f{i}"): [("email", "shared@example.org"), ("external_id", v)]
        for i, v in enumerate(f"u{n}" for n in range(6))
    }
    out = Runner(tmp_path).run(records)
    assert len(set(ids_by_record(out["identity_map"]).values())) == 6


def test_odd_external_id_values_are_skipped_and_the_submission_still_lands(tmp_path: Path) -> None:
    path = tmp_path / "forms.jsonl"
    rows = [
        {"submission_id": "t1", "email": "t1@example.org", "user_id": {"nested": 1}, "external_id": "E-1"},
        {"submission_id": "t2", "email": "t2@example.org", "user_id": ["a"], "userid": True},
        {"submission_id": "t3", "email": "t3@example.org", "user_id": "x" * 100_000},
        {"submission_id": "t4", "email": "t4@example.org", "user_id": 1.0},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = parse_form_file(path)
    assert result.quarantine == []
    assert result.records["external_id"].tolist() == ["E-1", None, None, "1"]
    # the over-long value is not an id, but it is kept with the submission
    assert len(json.loads(result.records["fields_json"][2])["user_id"]) == 100_000
