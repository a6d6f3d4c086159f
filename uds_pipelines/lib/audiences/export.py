"""Audience files: one dated CSV per run plus manifest.json, written atomically; warehouse rows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from uds_pipelines.lib import catalog, lake, storage
from uds_pipelines.lib.audiences.checks import check_audience
from uds_pipelines.lib.audiences.plan import COUNT_KEYS, FORMAT_COLUMNS, AudiencePlan

# Cells a spreadsheet would evaluate as a formula (OWASP CSV injection).
FORMULA_START = r"^[=+\-@\t\r]"
# Our own ids and hex digests are never personal free text, so they are written verbatim.
VERBATIM_COLUMNS = {"customer_id", "email_sha256", "phone_sha256"}


class AudienceCheckFailed(RuntimeError):
    """Refused to write an audience whose rows fail `check_audience` (message has counts only)."""


def formula_safe_sql(column: str) -> str:
    """DuckDB expression prefixing `'` to a text cell starting with `=`, `+`, `-`, `@`, tab or CR."""
    return f"CASE WHEN regexp_matches({column}, '{FORMULA_START}') THEN chr(39) || {column} ELSE {column} END"


def audience_file_name(audience: str, as_of: datetime) -> str:
    day = as_of.astimezone(UTC) if as_of.tzinfo else as_of
    return f"{audience}-{day:%Y%m%d}.csv"


def _write_csv_atomic(plan: AudiencePlan, columns: list[str], final: Path) -> str:
    """CSV via DuckDB (header, quotes only where needed, NULL as empty); returns the file's sha256."""
    view = f"_audience_rows_{uuid.uuid4().hex[:8]}"
    select = ", ".join(
        f'"{c}"' if c in VERBATIM_COLUMNS else f'{formula_safe_sql(chr(34) + c + chr(34))} AS "{c}"'
        for c in columns
    )
    tmp = lake.temp_path_for(final)
    plan.con.register(view, plan.rows)
    try:
        plan.con.execute(
            f"COPY (SELECT {select} FROM {view} ORDER BY customer_id) TO '{lake._sql_path(tmp)}' "
            "(FORMAT csv, HEADER true)"
        )
        digest = lake.sha256_file(tmp)
        lake.atomic_replace(tmp, final)
    finally:
        plan.con.unregister(view)
        tmp.unlink(missing_ok=True)
    return digest


def _write_atomic_bytes(data: bytes, final: Path) -> None:
    tmp = lake.temp_path_for(final)
    try:
        tmp.write_bytes(data)
        lake.atomic_replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def write_audience_files(plan: AudiencePlan, exports_dir: Path, run_id: str, as_of: datetime) -> list[Path]:
    """Write `exports/audiences/<name>/<name>-<YYYYMMDD>.csv` and `manifest.json`; returns both paths.

    A rerun on the same day replaces that day's file atomically. The plan is checked first and
    nothing is written when the check fails, so no file can carry a person without consent.
    """
    passed, details = check_audience(plan)
    if not passed:
        summary = {
            k: details[k] for k in ("rows_without_consent", "rows_erased_or_suppressed", "counts_add_up")
        }
        raise AudienceCheckFailed(f"audience {plan.audience.name!r} failed its check: {summary}")
    audience = plan.audience
    folder = exports_dir / "audiences" / audience.name
    storage.make_private_dirs(folder)
    csv_path = folder / audience_file_name(audience.name, as_of)
    digest = _write_csv_atomic(plan, FORMAT_COLUMNS[audience.format], csv_path)
    manifest = {
        "audience": audience.name,
        "segment": audience.segment,
        "purpose": audience.purpose,
        "format": audience.format,
        "destinations": list(audience.destinations),
        "file": csv_path.name,
        "columns": FORMAT_COLUMNS[audience.format],
        "rows": plan.rows.num_rows,
        "sha256": digest,
        "run_id": run_id,
        "as_of": as_of.astimezone(UTC).isoformat() if as_of.tzinfo else as_of.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(),
        "counts": {k: int(plan.counts[k]) for k in COUNT_KEYS},
        "info": {k: int(v) for k, v in plan.counts.items() if k not in COUNT_KEYS},
    }
    manifest_path = folder / "manifest.json"
    _write_atomic_bytes((json.dumps(manifest, indent=2) + "\n").encode("utf-8"), manifest_path)
    return [csv_path, manifest_path]


def audience_members_table(plans: list[AudiencePlan], exported_at: datetime) -> pa.Table:
    """All planned rows as one `audience_members` table (the catalog's schema) for the warehouse.

    Hashed audiences carry only their hashes; plain emails and names appear only for `email` ones.
    """
    members = catalog.table("audience_members")
    parts: list[pa.Table] = []
    for plan in plans:
        n = plan.rows.num_rows
        audience = plan.audience
        columns = {
            "audience": pa.array([audience.name] * n, pa.string()),
            "segment": pa.array([audience.segment] * n, pa.string()),
            "purpose": pa.array([audience.purpose] * n, pa.string()),
            "format": pa.array([audience.format] * n, pa.string()),
        }
        for name in members.columns[4:-1]:
            if name in plan.rows.column_names:
                columns[name] = plan.rows.column(name).cast(pa.string())
            else:
                columns[name] = pa.nulls(n, pa.string())
        columns["exported_at"] = pa.array([exported_at] * n, pa.timestamp("us", tz="UTC"))
        parts.append(pa.table(columns))
    if not parts:
        return members.empty()
    return pa.concat_tables(parts)
