"""Pipeline stages through the lib stage functions the assets call (locks, gates, ledger and verification
included), plus a bare DuckDB pass over each stage's inputs, one per child."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.config import Settings

AS_OF = "2026-11-01T00:00:00Z"


def settings_for(data_dir: Path, matching: str = "deterministic") -> Settings:
    environ = {"UDS_DATA_DIR": str(data_dir), "UDS_AS_OF": AS_OF, "UDS_MATCHING": matching}
    return Settings.from_env(environ | {"HOME": os.environ["HOME"]})


def land_stripe(data_dir: Path) -> dict:
    from uds_pipelines.lib.ingest.stripe_stage import land_stripe as land_stripe_stage

    summary = land_stripe_stage(settings_for(data_dir)).summary
    return {
        "rows": summary.records_read,
        "landed": summary.records_landed,
        "quarantined": summary.records_quarantined,
        "duplicates": summary.duplicates_skipped,
    }


def land_files_stage(data_dir: Path) -> dict:
    from uds_pipelines.lib.ingest.stage import FORMS, PRIVACY, SURVEYS, land_source

    out: dict = {"rows": 0}
    for spec in (SURVEYS, FORMS, PRIVACY):
        summary = land_source(settings_for(data_dir), spec).summary
        out[spec.source] = [summary.records_read, summary.records_landed, summary.records_quarantined]
        out["rows"] += summary.records_read
    return out


def land_forms(data_dir: Path) -> dict:
    from uds_pipelines.lib.ingest.stage import FORMS, land_source

    summary = land_source(settings_for(data_dir), FORMS).summary
    return {"rows": summary.records_read, "landed": summary.records_landed,
            "quarantined": summary.records_quarantined}  # fmt: skip


def staging(data_dir: Path) -> dict:
    from uds_pipelines.lib.staging.stripe import build_stripe_staging

    settings = settings_for(data_dir)
    counts = build_stripe_staging(
        settings.lake_dir,
        external_id_fields=settings.external_id_fields,
        memory_limit=settings.duckdb_memory_limit,
    )
    return {"rows": int(counts.get("stripe_events", 0))} | {k: int(v) for k, v in counts.items()}


def identity_inputs(data_dir: Path) -> dict:
    from uds_pipelines.lib.identity.stage import build_inputs

    stage = build_inputs(settings_for(data_dir))
    return {
        "rows": stage.person_records,
        "person_records": stage.person_records,
        "identifiers": stage.identifiers,
    }


def identity_resolution_stage(data_dir: Path, matching: str = "deterministic") -> dict:
    from uds_pipelines.lib.identity.stage import resolve

    if matching == "probabilistic":  # imported before the clock, as Splink alone's are (_identity_linkage)
        import scipy.sparse.csgraph  # noqa: F401
        import splink  # noqa: F401
    started = time.perf_counter()
    stage = resolve(settings_for(data_dir, matching), "bench")
    stats = {k: v for k, v in stage.stats.items() if isinstance(v, (int, float, str, dict))}
    return {"rows": int(stage.stats.get("records", 0)), "unmapped": stage.records_without_customer,
            "resolve_seconds": round(time.perf_counter() - started, 2)} | stats  # fmt: skip


def identity_resolution(
    data_dir: Path, matching: str = "deterministic", out_lake: Path | None = None, train: bool = False
) -> dict:
    """One matching mode from scratch (no previous map) into the lake `out_lake` (default the
    pipeline's own), for the accuracy comparison of modes (fixed against trained weights); the
    pipeline's own stage is `identity_resolution_stage`."""
    from uds_pipelines.lib import connection
    from uds_pipelines.lib.identity.guardrails import GuardrailConfig
    from uds_pipelines.lib.identity.resolve import resolve_identities, write_outputs
    from uds_pipelines.lib.identity.sources import person_attributes_sql

    s = settings_for(data_dir, matching)
    con = connection.connect(s.lake_dir, default_region=s.default_region)
    try:
        result = resolve_identities(  # the lake's identifiers (and person_records) views
            con,
            previous_map_table=None,
            previous_registry_table=None,
            config=GuardrailConfig(),
            run_id=f"bench-{matching}",
            now=s.as_of(),
            matching=matching,
            person_attributes_sql=person_attributes_sql() if matching == "probabilistic" else None,
            train_probabilistic=train,
        )
        write_outputs(con, out_lake or s.lake_dir, result)
    finally:
        con.close()
    stats = {k: v for k, v in result.stats.items() if isinstance(v, (int, float, str, dict))}
    return {"rows": int(result.stats.get("records", 0))} | stats


def profiles(data_dir: Path) -> dict:
    from uds_pipelines.lib.consent.stage import build_consent
    from uds_pipelines.lib.predictions.stage import build_predictions
    from uds_pipelines.lib.profiles.stage import build_profiles

    settings = settings_for(data_dir)
    started = time.perf_counter()
    consent = build_consent(settings)
    consent_seconds = time.perf_counter() - started
    # profiles join the predicted traits, so the stage runs before them as in the asset graph
    predictions = build_predictions(settings)
    predictions_seconds = time.perf_counter() - started - consent_seconds
    stage = build_profiles(settings)
    return {"rows": stage.rows, "consent_statements": consent.ledger.rows,
            "consent_seconds": round(consent_seconds, 2), "predictions_seconds": round(predictions_seconds, 2),
            "predicted_rows": predictions.rows, "profiles_scope": stage.scope,
            "profiles_seconds": round(time.perf_counter() - started - consent_seconds - predictions_seconds, 2)}  # fmt: skip


def segments_audiences(data_dir: Path) -> dict:
    from uds_pipelines.lib.audiences.stage import (
        build_audience_members,
        check_members_consent,
        export_audiences,
    )
    from uds_pipelines.lib.segments.stage import build_segments

    s = settings_for(data_dir)
    written = build_segments(s).written
    members = build_audience_members(s)
    if not check_members_consent(s).passed:  # the blocking check: no export without it
        raise RuntimeError("audience_members_consent_safe failed: nothing exported")
    files = export_audiences(s, "bench").files
    exported = int(files["rows"].sum()) if len(files) else 0
    return {
        "rows": written["segment_membership"],
        "audience_members": members.rows,
        "exported_rows": exported,
    }


def privacy_requests(data_dir: Path) -> dict:
    from uds_pipelines.lib.privacy.stage import run_privacy_requests

    stage = run_privacy_requests(settings_for(data_dir), "bench")
    erasure = stage.result.erasure.as_metadata() if stage.result.erasure else {}
    return {"rows": stage.pending, "status": stage.result.status_counts(), "erasure": erasure,
            "identifiers_checked": stage.identifiers_checked, "leftovers": len(stage.leftovers)}  # fmt: skip


STAGES: dict[str, Callable[[Path], dict]] = {
    "land_stripe": land_stripe,
    "land_files": land_files_stage,
    "staging": staging,
    "identity_inputs": identity_inputs,
    "identity_resolution": identity_resolution_stage,
    "land_forms": land_forms,
    # the identity stage as UDS_MATCHING=probabilistic runs it (issue 16's side-by-side)
    "identity_resolution_probabilistic": lambda d: identity_resolution_stage(d, "probabilistic"),
    "profiles": profiles,
    "segments_audiences": segments_audiences,
    "privacy_erase": privacy_requests,
    "identity_deterministic": identity_resolution,
    # each mode's lake as `_identity_accuracy.MODES` names it
    "identity_probabilistic": lambda d: identity_resolution(d, "probabilistic", d / "lake_probabilistic"),
    "identity_probabilistic_trained": lambda d: identity_resolution(
        d, "probabilistic", d / "lake_probabilistic_trained", train=True
    ),
}


def stage_inputs(stage: str, data_dir: Path, gen_dir: Path) -> list[tuple[str, list[Path]]]:
    """The files each stage reads, as (reader, files) for the bare DuckDB pass."""
    lake_dir = settings_for(data_dir).lake_dir
    inbox = gen_dir / "inbox"

    def parquet(*tables: str) -> list[tuple[str, list[Path]]]:
        """The files of catalog tables, one reader per file."""
        found = []
        for name in tables:
            p = catalog.path(lake_dir, name)
            if catalog.table(name).kind == "file":
                files = [p]
            else:
                files = (
                    sorted(f for f in p.glob("*.parquet") if not f.name.startswith(".")) if p.exists() else []
                )
            found += [("parquet", [f]) for f in files if f.exists()]
        return found

    if stage == "land_stripe":
        return [("jsonl", [p for p in sorted((inbox / "stripe").glob("*.jsonl"))])]
    if stage == "land_files":
        out = []
        for source in ("surveys", "forms", "privacy"):
            files = sorted((inbox / source).iterdir())
            out += [("csv", [f]) for f in files if f.suffix == ".csv"]
            jl = [f for f in files if f.suffix == ".jsonl"]
            out += [("jsonl", jl)] if jl else []
        return out
    if stage == "staging":
        return [("parquet", [f for _reader, files in parquet("landed_stripe") for f in files])]
    if stage == "identity_inputs":
        return parquet(
            "stripe_customers", "stripe_checkout_sessions", "landed_survey_responses", "landed_forms"
        )
    if stage == "identity_resolution":
        return parquet("identifiers")
    if stage == "profiles":
        return parquet("person_records", "identity_map", "identifiers", "stripe_charges", "stripe_refunds",
                       "stripe_invoices", "stripe_subscriptions", "stripe_consents", "landed_consent",
                       "landed_survey_responses", "landed_forms")  # fmt: skip
    if stage == "segments_audiences":
        return parquet("customer_profiles", "effective_consent")
    if stage == "privacy_erase":
        return parquet("landed_stripe", "landed_forms", "landed_survey_responses", "identifiers")
    raise ValueError(stage)


def bare(stage: str, data_dir: Path, gen_dir: Path, scratch: Path) -> dict:
    """COPY every input of the stage to Parquet with DuckDB, nothing else: the floor for that stage."""
    con = lake.duckdb_connection("2GB")
    con.execute("SET enable_progress_bar=false")
    con.execute(f"SET temp_directory='{scratch / 'spill'}'")
    rows = 0
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        for i, (reader, files) in enumerate(stage_inputs(stage, data_dir, gen_dir)):
            names = ", ".join(f"'{f}'" for f in files)
            source = {
                "jsonl": f"read_json([{names}], format='newline_delimited', ignore_errors=true)",
                "csv": f"read_csv([{names}], all_varchar=true, null_padding=true, ignore_errors=true)",
                "parquet": lake.files_relation(files, union_by_name=True),
            }[reader]
            target = scratch / f"bare-{i}.parquet"
            rows += con.execute(f"COPY (SELECT * FROM {source}) TO '{target}' (FORMAT parquet)").fetchone()[0]
            target.unlink()
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return {"rows": rows}


def child_main(argv: list[str]) -> None:
    """`_stages.py STAGE DATA_DIR GEN_DIR [bare]`: run one stage (or its bare pass) and print RESULT."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import emit_result

    stage, data_dir, gen_dir = argv[0], Path(argv[1]), Path(argv[2])
    started = time.perf_counter()
    if len(argv) > 3 and argv[3] == "bare":
        result = bare(stage, data_dir, gen_dir, data_dir / ".bare")
    else:
        result = STAGES[stage](data_dir)
    emit_result(result | {"inner_seconds": round(time.perf_counter() - started, 2)})


if __name__ == "__main__":
    child_main(sys.argv[1:])
