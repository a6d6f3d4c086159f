"""Hand-written behavioural events and identity-map rows in a test lake (no landing, no identity run).

The identity map's event records follow the agreed interface: `source = 'events'`, `record_id =
'user:<userId>'` or `'anon:<anonymousId>'`.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa

from uds_pipelines.lib import catalog, lake


def event(
    user_id: str | None,
    anonymous_id: str | None,
    at: str,
    *,
    type: str = "track",
    event: str | None = "Page Viewed",
    traits: dict | None = None,
    properties: dict | None = None,
    context: dict | None = None,
) -> dict:
    """One landed event row (the catalog's columns); the day is the timestamp's UTC day."""
    stamp = pd.Timestamp(at, tz="UTC")
    return {
        "message_id": str(uuid.uuid4()),
        "type": type,
        "event": event if type == "track" else None,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "timestamp": stamp,
        "received_at": stamp,
        "properties": json.dumps(properties or {}),
        "traits": json.dumps(traits) if traits is not None else None,
        "context": json.dumps(context or {}),
        "source_file": "events_test.jsonl",
        "position": 1,
        "landed_at": stamp,
    }


def write_events(lake_dir: Path, rows: list[dict], batch: str = "events-test") -> list[Path]:
    """Write rows into `lake/events/day=<UTC day>/<batch>.parquet`, typed as the catalog declares."""
    table = catalog.table("events")
    frame = pd.DataFrame(rows).reindex(columns=list(table.columns))
    frame["position"] = range(1, len(frame) + 1)
    written = []
    for day, part in frame.groupby(frame["timestamp"].dt.strftime("%Y-%m-%d")):
        path = catalog.path(lake_dir, "events") / f"day={day}" / f"{batch}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        part = part.astype(object).where(part.notna(), None)  # all-null columns stay typed nulls
        lake.write_parquet_atomic(pa.Table.from_pandas(part, schema=table.schema, preserve_index=False), path)
        written.append(path)
    return written


def write_identity_map(lake_dir: Path, rows: list[tuple[str, str, str]]) -> None:
    """(source, record_id, customer_id) rows as the identity map."""
    frame = pd.DataFrame(rows, columns=["source", "record_id", "customer_id"], dtype=object)
    frame["origin_customer_id"] = frame["customer_id"]
    frame["fingerprint"], frame["guarded"] = None, None  # never resolved: the next resolution takes them all
    path = catalog.path(lake_dir, "identity_map")
    path.parent.mkdir(parents=True, exist_ok=True)
    lake.write_parquet_atomic(
        pa.Table.from_pandas(frame, preserve_index=False).cast(catalog.table("identity_map").schema), path
    )
