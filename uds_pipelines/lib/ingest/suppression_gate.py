"""Records of erased people that arrive again are dropped at landing, counted, never stored.

A dropped record becomes a quarantine row with reason `suppressed` and no raw content, so the
conservation of records still holds and nothing about the person is written back.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uds_pipelines.lib import catalog, connection, lake, lake_views, storage
from uds_pipelines.lib.privacy.suppression import (
    filter_suppressed,
    load_suppression,
    register_suppression,
    suppressed_sql,
)
from uds_pipelines.lib.quarantine import QuarantineRecord, write_quarantine

SUPPRESSED = "suppressed"
# Where an event carries the person's email, whatever the object type.
EVENT_EMAIL_PATHS = ("$.data.object.email", "$.data.object.customer_email", "$.data.object.customer_details.email",
                     "$.data.object.billing_details.email", "$.data.object.receipt_email")  # fmt: skip
EVENT_PHONE_PATHS = (
    "$.data.object.phone",
    "$.data.object.customer_details.phone",
    "$.data.object.billing_details.phone",
)


def suppression_active(lake_dir: Path) -> bool:
    return not load_suppression(lake_dir).empty


def gate_frame(
    frame: pd.DataFrame, *, key: bytes, lake_dir: Path, source: str, source_file: str, default_region: str
) -> tuple[pd.DataFrame, list[QuarantineRecord]]:
    """Rows of a parsed frame whose identifiers are not suppressed, and the dropped ones."""
    kept, dropped = filter_suppressed(
        frame,
        key=key,
        lake_dir=lake_dir,
        source=source,
        source_file=source_file,
        default_region=default_region,
    )
    return kept.reset_index(drop=True), dropped


def gate_stripe_batch(batch_path: Path, lake_dir: Path, key: bytes, default_region: str) -> dict[str, int]:
    """Remove suppressed events from a freshly landed (normally still held) Stripe batch file,
    rewritten atomically or deleted when nothing is left, and quarantine them by position; returns
    dropped counts per source file."""
    if batch_path.parent != catalog.path(lake_dir, "landed_stripe"):
        raise ValueError(f"{batch_path.name} is not a batch file of landed_stripe")
    con = connection.connect(default_region=default_region, memory_limit="1GB")
    try:
        register_suppression(con, key, lake_dir)
        checks = [suppressed_sql("stripe_customer", "customer_ref")]
        checks += [
            suppressed_sql("email", f"uds_email_key(json_extract_string(payload, '{path}'))")
            for path in EVENT_EMAIL_PATHS
        ]
        checks += [
            suppressed_sql("phone", f"uds_phone_e164(json_extract_string(payload, '{path}'), NULL)")
            for path in EVENT_PHONE_PATHS
        ]
        predicate = " OR ".join(checks)
        batch = lake.files_relation([batch_path])  # one batch file, normally held: not in the view yet
        dropped = con.execute(f"SELECT source_file, position FROM {batch} WHERE {predicate}").fetchall()
        if not dropped:
            return {}
        if len(dropped) == lake.parquet_row_count(batch_path):
            storage.remove(batch_path)
        else:
            kept = f"SELECT * FROM {batch} WHERE NOT ({predicate})"
            lake_views.write_query(con, lake_dir, "landed_stripe", kept, batch_name=batch_path.name)
    finally:
        con.close()
    records = [QuarantineRecord("stripe", name, int(pos), SUPPRESSED, None) for name, pos in dropped]
    batch_name = batch_path.name.removesuffix(lake.HELD_SUFFIX)
    write_quarantine(records, lake_dir, batch_name=f"suppressed-{batch_name}")
    counts: dict[str, int] = {}
    for name, _ in dropped:
        counts[name] = counts.get(name, 0) + 1
    return counts
