"""Land a batch of event files (inbox/events/*.jsonl) into `lake/events/day=YYYY-MM-DD/`, in DuckDB.

- Every file of the batch is read in one DuckDB pass (`sql.create_rows`); bad messages get a reason
  code, duplicates of a `messageId` (earlier in the batch, or already in the lake) are skipped.
- A landing run writes one file per day, `day=<UTC day>/events-<sha256[:24]>.parquet`, named after
  its ledger batch (the first claimed file's hash, as `inbox_landing` names the ledger file): a
  replay of many files spanning many days makes one file per day, not per (input file, day). A file
  whose name no ledger row vouches for was written by a run killed before its ledger row: it goes
  before the rerun lands the same inputs again (`_drop_unvouched`).
- Files DuckDB refuses (invalid UTF-8, a line past 16 MiB) are rewritten with those lines blanked and
  quarantined, as Stripe landing does; only such files are read line by line in Python.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from uds_pipelines.lib import catalog, lake, lake_views
from uds_pipelines.lib.ingest.events import sql
from uds_pipelines.lib.ingest.events.plan_check import PlanOutcome, apply_plan
from uds_pipelines.lib.ingest.events.reasons import SOURCE, describe, plan_reason
from uds_pipelines.lib.ingest.events.suppressed import SUPPRESSED, create_suppressed
from uds_pipelines.lib.ingest.events.write import write_days
from uds_pipelines.lib.ingest.inbox import landed_hashes
from uds_pipelines.lib.ingest.inbox_landing import ClaimedFile, file_row
from uds_pipelines.lib.ingest.stripe_landing.reasons import clean_jsonl
from uds_pipelines.lib.quarantine import MAX_RAW_CHARS, QuarantineRecord, write_quarantine
from uds_pipelines.lib.tracking_plan import TrackingPlan

TABLE = "events"
LEDGER_SOURCE = "events"  # the inbox source in the ledger (`reasons.SOURCE` is the quarantine one)
SUFFIXES = (".jsonl", ".ndjson")
_COLUMNS = ", ".join(catalog.table(TABLE).columns)


@dataclass
class EventsBatch:
    rows: list[dict]  # ledger rows, one per file
    output: str | None = None  # the run's file name in each day folder it wrote
    plan: PlanOutcome = field(default_factory=PlanOutcome)
    days: set[str] = field(default_factory=set)
    preview: pd.DataFrame | None = None


def batch_name(sha256: str) -> str:
    return f"events-{sha256[:24]}.parquet"


def land_event_files(
    batch: list[ClaimedFile],
    lake_dir: Path,
    plan: TrackingPlan,
    memory_limit: str = "2GB",
    suppression_key: bytes | None = None,
    default_region: str = "US",
) -> EventsBatch:
    """Land claimed event files together; one ledger row per file, conserved. With
    `suppression_key`, messages of erased people are dropped (`suppressed.py`)."""
    quarantine: dict[str, list[QuarantineRecord]] = {f.path.name: [] for f in batch}
    readable = []
    for claimed in batch:
        if claimed.path.name.lower().endswith(SUFFIXES):
            readable.append(claimed)
        else:
            reason = f"unsupported file type {claimed.path.suffix or '(none)'}: expected .jsonl or .ndjson"
            quarantine[claimed.path.name].append(QuarantineRecord(SOURCE, claimed.path.name, 0, reason, None))
    result = EventsBatch(rows=[], output=batch_name(batch[0].sha256) if batch else None)
    counts: dict[str, tuple[int, int, int]] = {}
    tmp = lake.private_temp_path("events-landing")  # cleaned copies hold personal data
    tmp.mkdir(mode=0o700)
    con = lake.duckdb_connection(memory_limit)
    try:
        con.execute("SET TimeZone='UTC'")  # day folders are UTC days
        con.execute("SET enable_progress_bar=false")
        con.execute("SET preserve_insertion_order=true")  # rowid = line order (positions, first wins)
        if readable:
            gate = (suppression_key, default_region)
            counts = _land(con, readable, lake_dir, plan, quarantine, tmp, result, gate)
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)
    for claimed in batch:
        name = claimed.path.name
        read, landed, duplicates = counts.get(name, (0, 0, 0))
        bad = quarantine[name]
        write_quarantine(bad, lake_dir, batch_name=batch_name(claimed.sha256))
        result.rows.append(
            file_row(name, claimed.sha256, claimed.size_bytes, read + len(bad), landed, len(bad), duplicates)
        )
    return result


def _land(con, files: list[ClaimedFile], lake_dir, plan, quarantine, tmp: Path, result: EventsBatch, gate):
    try:  # the whole batch in one pass; only when DuckDB refuses a file are the files probed
        con.execute(sql.create_rows([f.path for f in files]))
    except duckdb.Error:
        con.execute(sql.create_rows(_readable_paths(con, files, quarantine, tmp)))
    run = result.output.removesuffix(".parquet")
    con.execute(_CREATE_FILES, [[f.path.name for f in files], run])
    con.execute(_CREATE_POSITIONS)
    existing = _drop_unvouched(lake_dir)
    earlier = f"OR message_id IN (SELECT message_id FROM {lake.files_relation(existing)})" if existing else ""
    con.execute(_CREATE_DUPLICATES.format(earlier=earlier))
    create_suppressed(con, lake_dir, _SUPPRESSIBLE, *gate)  # before the plan: their raw is never kept
    result.plan = apply_plan(con, plan, _CANDIDATES)
    con.execute(_CREATE_LAND)
    for name, position, code, detail, raw, length in con.execute(_BAD_ROWS).fetchall():
        reason = describe(code, detail, raw, length, position)
        quarantine[name].append(QuarantineRecord(SOURCE, name, position, reason, _cut(raw)))
    for name, position in con.execute(_SUPPRESSED).fetchall():
        quarantine[name].append(QuarantineRecord(SOURCE, name, position, SUPPRESSED, None))
    for name, position, event, problem, raw in con.execute(_PLAN_QUARANTINED).fetchall():
        quarantine[name].append(
            QuarantineRecord(SOURCE, name, position, plan_reason(event, problem, position), raw)
        )
    written = write_days(con, lake_dir, _LANDED)
    result.days = {day for day, _batch in written}
    counts = {name: (read, landed, dups) for name, read, landed, dups in con.execute(_FILE_COUNTS).fetchall()}
    if sum(written.values()) != sum(landed for _read, landed, _dups in counts.values()):
        raise RuntimeError(f"events landing wrote {sum(written.values())} rows, counted {counts}")
    result.preview = con.execute(f"SELECT {_COLUMNS} FROM ev_land LIMIT 10").df()
    return counts


def stored_per_input(lake_dir: Path, outputs: list[str], files: list[dict]) -> str | None:
    """(batch: an input's sha256[:24], n: its rows stored) for `files` (ledger rows) landed by the runs
    that wrote `outputs`, counted again from the lake by `source_file` (a run's file holds the rows
    of all its inputs): for `conservation_violations`. None when nothing was written."""
    paths = [p for p in lake_views.table_files(lake_dir, TABLE) if p.name in set(outputs)]
    if not paths or not files:
        return None
    names = lake.sql_literal_list([f["file_name"] for f in files])
    shas = lake.sql_literal_list([f["sha256"][:24] for f in files])
    return (
        f"(SELECT m.batch, count(*) AS n FROM {lake.files_relation(paths)} e "
        f"JOIN (SELECT unnest([{names}]) AS source_file, unnest([{shas}]) AS batch) m USING (source_file) "
        "GROUP BY 1)"
    )


def _drop_unvouched(lake_dir: Path) -> list[Path]:
    """The stored event files, after removing those of runs killed before their ledger row (their
    inputs are still waiting and land again now). A name is vouched for when it is the hash prefix
    of a landed file: a run's ledger batch, or one input file in the older per-file layout."""
    vouched = {sha[:24] for sha in landed_hashes(lake_dir, LEDGER_SOURCE)}
    kept = []
    for path in lake_views.table_files(lake_dir, TABLE):
        if path.name.startswith("events-") and path.name[7:31] not in vouched:
            path.unlink()  # a day the rerun no longer writes (the plan changed) keeps no stale rows
        else:
            kept.append(path)
    return kept


def _readable_paths(con, files: list[ClaimedFile], quarantine, tmp: Path) -> list[Path]:
    """The files as DuckDB can read them: a refused file is replaced by a cleaned copy (same name)."""
    paths = [f.path for f in files]
    cleaned = []
    for index, path in enumerate(paths):
        if _reads(con, [path]):
            cleaned.append(path)
            continue
        copy = clean_jsonl(path, tmp / str(index), path.name)
        quarantine[path.name].extend(dataclasses.replace(q, source=SOURCE) for q in copy.quarantine)
        cleaned.append(copy.path)
    return cleaned


def _reads(con, paths: list[Path]) -> bool:
    try:
        con.execute(f"SELECT count(*) FROM {sql.jsonl_source(paths)}").fetchall()
    except duckdb.Error:
        return False
    return True


def _cut(raw: str | None) -> str | None:
    return raw if raw is None or len(raw) <= MAX_RAW_CHARS else raw[:MAX_RAW_CHARS]


# The batch's files: name (source_file), the run's output name, and the rowid of their first line
# (a line's position is its rowid past that: ev_rows is stored in scan order).
_CREATE_FILES = """
    CREATE OR REPLACE TEMP TABLE ev_files AS
    SELECT r.filename, n.source_file, $2::VARCHAR AS batch, r.off
    FROM (SELECT filename, parse_filename(filename) AS source_file, min(rowid) AS off FROM ev_rows GROUP BY ALL) r
    JOIN (SELECT unnest($1::VARCHAR[]) AS source_file) n USING (source_file)
"""

_CREATE_POSITIONS = """
    CREATE OR REPLACE TEMP VIEW ev_pos AS
    SELECT r.rowid AS rid, f.source_file, r.rowid - f.off + 1 AS position
    FROM ev_rows r JOIN ev_files f USING (filename)
"""

# First occurrence in the batch wins (files in name order, lines in order); a messageId already in
# the lake is a duplicate whatever the content (Segment's rule: the messageId is the identity).
_CREATE_DUPLICATES = """
    CREATE OR REPLACE TEMP TABLE ev_dups AS
    SELECT rid FROM (
        SELECT rowid AS rid, message_id, row_number() OVER (PARTITION BY message_id ORDER BY rowid) AS n
        FROM ev_rows WHERE NOT blank AND reason IS NULL
    ) WHERE n > 1 {earlier}
"""

_UNIQUE = """
    SELECT r.rowid AS rid, r.type, r.event, r.user_id, r.anonymous_id, r.properties, r.traits FROM ev_rows r
    WHERE NOT r.blank AND r.reason IS NULL AND r.rowid NOT IN (SELECT rid FROM ev_dups)
"""

_CANDIDATES = f"SELECT * FROM ({_UNIQUE}) WHERE rid NOT IN (SELECT rid FROM ev_supp)"

# Checked against the suppression list: every line whose fields could be read, bad ones too (a
# refused call or a bad timestamp of an erased person must not reach quarantine with its text).
_SUPPRESSIBLE = """
    SELECT r.rowid AS rid, r.type, r.event, r.user_id, r.anonymous_id, r.properties, r.traits FROM ev_rows r
    WHERE NOT r.blank AND r.rowid NOT IN (SELECT rid FROM ev_dups)
"""

_SUPPRESSED = "SELECT o.source_file, o.position FROM ev_supp JOIN ev_pos o USING (rid) ORDER BY 1, 2"

# The rows that land: not blank, no reason, not a duplicate, not suppressed, not quarantined by the plan.
_CREATE_LAND = """
    CREATE OR REPLACE TEMP VIEW ev_land AS
    SELECT r.* EXCLUDE (blank, reason, reason_detail, bad_line, len),
           CASE WHEN p.violation IS NOT NULL THEN to_json([p.violation])::VARCHAR END AS violations,
           f.source_file, r.rid - f.off + 1 AS position, now() AS landed_at,
           strftime(r.timestamp, '%Y-%m-%d') AS day, f.batch
    FROM (SELECT rowid AS rid, * FROM ev_rows) r
    JOIN ev_files f USING (filename)
    LEFT JOIN ev_plan p USING (rid)
    WHERE NOT r.blank AND r.reason IS NULL AND rid NOT IN (SELECT rid FROM ev_dups)
      AND rid NOT IN (SELECT rid FROM ev_supp) AND NOT coalesce(p.quarantine, false)
"""

_LANDED = f"SELECT {_COLUMNS}, day, batch FROM ev_land"

_BAD_ROWS = """
    SELECT o.source_file, o.position, r.reason, r.reason_detail, r.bad_line, r.len
    FROM (SELECT rowid AS rid, * FROM ev_rows WHERE reason IS NOT NULL) r JOIN ev_pos o USING (rid)
    WHERE rid NOT IN (SELECT rid FROM ev_supp)  -- an erased person's bad line is only `suppressed`
    ORDER BY 1, 2
"""

# The raw text of a good line is not kept (it would double the batch in memory); a record the plan
# quarantines is kept as its message rebuilt from the typed columns, every JSON part whole.
_PLAN_QUARANTINED = """
    SELECT o.source_file, o.position, CASE WHEN r.type = 'identify' THEN '(identify)' ELSE r.event END,
           p.violation, json_object(
        'type', r.type, 'messageId', r.message_id, 'event', r.event, 'name', r.name, 'userId', r.user_id,
        'anonymousId', r.anonymous_id, 'timestamp', r.timestamp, 'receivedAt', r.received_at,
        'properties', r.properties::JSON, 'traits', r.traits::JSON, 'context', r.context::JSON,
        'source', r.source)::VARCHAR
    FROM ev_plan p JOIN ev_pos o USING (rid)
    JOIN (SELECT rowid AS rid, * FROM ev_rows) r USING (rid)
    WHERE p.quarantine
    ORDER BY 1, 2
"""

_FILE_COUNTS = """
    SELECT o.source_file,
           -- read besides the quarantined (counted from the quarantine rows): landed or duplicate
           count(*) FILTER (WHERE NOT r.blank AND r.reason IS NULL AND NOT coalesce(p.quarantine, false) AND s.rid IS NULL),
           count(*) FILTER (WHERE NOT r.blank AND r.reason IS NULL AND d.rid IS NULL AND NOT coalesce(p.quarantine, false) AND s.rid IS NULL),
           count(d.rid)
    FROM (SELECT rowid AS rid, blank, reason FROM ev_rows) r
    JOIN ev_pos o USING (rid)
    LEFT JOIN ev_dups d USING (rid)
    LEFT JOIN ev_supp s USING (rid)
    LEFT JOIN ev_plan p USING (rid)
    GROUP BY 1
"""
