"""Audience files: one dated CSV per run plus manifest.json, written atomically; warehouse rows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from uds_pipelines.lib import catalog, lake, storage
from uds_pipelines.lib.audiences import destinations
from uds_pipelines.lib.audiences.checks import check_audience
from uds_pipelines.lib.audiences.plan import COUNT_KEYS, FILE_COLUMNS, AudiencePlan, query_arrow

# Cells a spreadsheet would evaluate as a formula (OWASP CSV injection).
FORMULA_START = r"^[=+\-@\t\r]"
# Our own ids and hex digests are never personal free text, so they are written verbatim.
VERBATIM_COLUMNS = {"customer_id", "email_sha256", "phone_sha256"}
# The audience_members column holding a platform row (JSON object, header -> cell, file order).
DESTINATION_FIELDS = "destination_fields"


def verbatim_columns(fmt: str) -> set[str]:
    if fmt in destinations.DESTINATION_FORMATS:
        return set(destinations.file_columns(fmt)) - set(destinations.clear_columns(fmt))
    return VERBATIM_COLUMNS


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
    verbatim = verbatim_columns(plan.audience.format)
    select = ", ".join(
        f'"{c}"' if c in verbatim else f'{formula_safe_sql(chr(34) + c + chr(34))} AS "{c}"' for c in columns
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
    digest = _write_csv_atomic(plan, FILE_COLUMNS[audience.format], csv_path)
    manifest = {
        "audience": audience.name,
        "segment": audience.segment,
        "purpose": audience.purpose,
        "format": audience.format,
        "destinations": list(audience.destinations),
        "file": csv_path.name,
        "columns": FILE_COLUMNS[audience.format],
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
    A platform format's row is kept whole in `destination_fields` (its cells by header, hashed or
    clear exactly as in the file), so one table serves every destination without a column per
    platform key; `customer_id` is set for every row.
    """
    members = catalog.table("audience_members")
    parts: list[pa.Table] = []
    for plan in plans:
        n = plan.rows.num_rows
        audience = plan.audience
        # a platform's header may share a name with ours (Meta's `email` is a hash): not copied
        own = (
            {"customer_id"}
            if audience.format in destinations.DESTINATION_FORMATS
            else set(plan.rows.column_names)
        )
        columns = {
            "audience": pa.array([audience.name] * n, pa.string()),
            "segment": pa.array([audience.segment] * n, pa.string()),
            "purpose": pa.array([audience.purpose] * n, pa.string()),
            "format": pa.array([audience.format] * n, pa.string()),
        }
        for name in members.columns[4:]:
            if name == "exported_at":
                columns[name] = pa.array([exported_at] * n, pa.timestamp("us", tz="UTC"))
            elif name == DESTINATION_FIELDS:
                columns[name] = _destination_fields(plan)
            elif name in own:
                columns[name] = plan.rows.column(name).cast(pa.string())
            else:
                columns[name] = pa.nulls(n, pa.string())
        parts.append(pa.table(columns))
    if not parts:
        return members.empty()
    return pa.concat_tables(parts)


def _destination_fields(plan: AudiencePlan) -> pa.Array:
    fmt = plan.audience.format
    if fmt not in destinations.DESTINATION_FORMATS:
        return pa.nulls(plan.rows.num_rows, pa.string())
    headers = destinations.file_columns(fmt)
    pairs = ", ".join(f"{lake.sql_literal_list([h])}, {lake.quote_ident(h)}" for h in headers)
    return _in_order(plan.rows.select(headers), f"json_object({pairs})::VARCHAR").column(0)


def destination_rows(members: pa.Table, fmt: str) -> pa.Table:
    """Planned rows (`customer_id` and the file's cells) back from `audience_members` rows."""
    cells = ", ".join(
        f"CAST(nullif({DESTINATION_FIELDS}, '') AS JSON) ->> {lake.sql_literal_list(['$.' + lake.quote_ident(h)])} AS {lake.quote_ident(h)}"
        for h in destinations.file_columns(fmt)
    )
    return _in_order(
        members.select(["customer_id", DESTINATION_FIELDS]),
        f"CAST(customer_id AS VARCHAR) AS customer_id, {cells}",
    )


def _in_order(rows: pa.Table, select: str) -> pa.Table:
    """`SELECT {select}` over `rows` in DuckDB, one result row per input row in the same order (a
    fresh connection keeps insertion order), as Arrow: no Python call per row."""
    con = duckdb.connect()
    try:
        con.register("_rows", rows)
        return query_arrow(con, f"SELECT {select} FROM _rows")
    finally:
        con.close()
