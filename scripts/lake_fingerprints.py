"""Content fingerprints of the contract tables of a data dir after `uds-run`, for refactors.

    python scripts/lake_fingerprints.py <UDS_DATA_DIR>

Customer ids are random per run (by design), so each is replaced by a label that does not depend
on them: the smallest `source:record_id` of the records mapped to it. Run-time columns (quarantine
and export timestamps, dated export file names, request-time fields) are left out; everything else
is sorted and hashed, one SHA-256 per table, so two runs over the same inbox and `UDS_AS_OF` print
the same lines when the pipeline's behaviour is the same.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import duckdb

STAGED = (
    "staging/stripe_customers",
    "staging/stripe_charges",
    "staging/stripe_invoices",
    "staging/stripe_refunds",
    "staging/stripe_subscriptions",
    "staging/stripe_checkout_sessions",
    "staging/stripe_consents",
    "identity/person_records",
    "identity/identifiers",
)


def _digest(rows) -> str:
    digest = hashlib.sha256()
    for row in sorted(json.dumps(r, default=str, sort_keys=True) for r in rows):
        digest.update(row.encode() + b"\n")
    return digest.hexdigest()[:16]


def _relabel(value, labels: dict[str, str]):
    """`value` (parsed JSON) with every customer id replaced by its label, lists sorted."""
    if isinstance(value, dict):
        return {k: _relabel(v, labels) for k, v in value.items()}
    if isinstance(value, list):  # order-insensitive: reports list segments in no fixed order
        return sorted((_relabel(v, labels) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return labels.get(value, value) if isinstance(value, str) else value


def fingerprints(data_dir: Path) -> dict[str, tuple[int, str]]:
    lake = data_dir / "lake"
    con = duckdb.connect()
    con.execute(
        f"""CREATE TABLE labels AS SELECT customer_id, min(source || ':' || record_id) AS label
            FROM read_parquet('{lake}/identity/identity_map.parquet') GROUP BY 1"""
    )

    def rows(sql: str) -> list[dict]:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def relabelled(path: Path) -> list[dict]:
        reader = "read_csv_auto" if path.suffix == ".csv" else "read_parquet"
        return rows(
            f"""SELECT coalesce(l.label, 'unmapped') AS person, t.* EXCLUDE (customer_id)
                FROM {reader}('{path}') t LEFT JOIN labels l USING (customer_id)"""
        )

    tables = {
        "quarantine": rows(
            f"SELECT source, regexp_replace(source_file, '.*/', '') AS source_file, position, reason, raw "
            f"FROM read_parquet('{lake}/quarantine/*.parquet', union_by_name=true)"
        ),
        "identity_map": rows(
            f"""SELECT source, record_id, l.label AS person
                FROM read_parquet('{lake}/identity/identity_map.parquet') JOIN labels l USING (customer_id)"""
        ),
        "customer_profiles": relabelled(lake / "profiles/customer_profiles.parquet"),
        "segment_membership": relabelled(lake / "segments/segment_membership.parquet"),
    }
    for name in STAGED:  # keyed by source ids, no customer ids; a Stripe table is a folder of parts
        source = f"{lake}/{name}/*.parquet" if (lake / name).is_dir() else f"{lake}/{name}.parquet"
        tables[name] = rows(f"SELECT * FROM read_parquet('{source}', union_by_name=true)")
    audiences = data_dir / "exports/audiences"
    for folder in sorted(p for p in audiences.iterdir() if p.is_dir()) if audiences.is_dir() else []:
        files = sorted(folder.glob("*.csv"))
        if files:  # the latest dated file: its name holds the run date
            tables[f"audience:{folder.name}"] = relabelled(files[-1])
        manifest = json.loads((folder / "manifest.json").read_text())
        tables[f"manifest:{folder.name}"] = [{k: v for k, v in manifest.items() if "count" in k or k == "counts"}]
    labels = dict(con.execute("SELECT customer_id, label FROM labels").fetchall())
    reports = data_dir / "exports/access_requests"
    for report in sorted(reports.glob("*.json")) if reports.is_dir() else []:
        body = json.loads(report.read_text())
        body.pop("generated_at", None)
        tables[f"access:{report.stem}"] = [_relabel(body, labels)]
    return {name: (len(r), _digest(r)) for name, r in tables.items()}


def main(argv: list[str]) -> int:
    for name, (count, digest) in fingerprints(Path(argv[0])).items():
        print(f"{name:40s} {count:8d} {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
