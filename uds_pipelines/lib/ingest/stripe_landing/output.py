"""DuckDB SQL that deduplicates parsed events and produces the landed batch rows."""

from __future__ import annotations

from pathlib import Path

from uds_pipelines.lib import lake

CREATE_JSONL_OFFSETS = """
    CREATE OR REPLACE TEMP TABLE stripe_jl_off AS
    SELECT filename, min(rn) - 1 AS off FROM stripe_jl_env GROUP BY filename
"""

# Every record (not blank lines), JSONL first, in input order: `part`/`k` identify a row for the
# duplicate list and give "first occurrence wins" within the batch.
CREATE_ALL_ENV = """
    CREATE OR REPLACE TEMP TABLE stripe_all_env AS
    SELECT 0 AS part, rn AS k, filename, rn - off AS position, event_id, reason
    FROM stripe_jl_env JOIN stripe_jl_off USING (filename)
    WHERE reason IS DISTINCT FROM 'blank'
    UNION ALL
    SELECT 1 AS part, row_number() OVER (ORDER BY filename, position) AS k, filename, position, event_id, reason
    FROM stripe_js_env
"""


def create_duplicates(existing: list[Path]) -> str:
    """Rows not to land because their event id landed in an earlier batch (`existing`: those batch
    files, the one being rewritten left out) or earlier in this one."""
    earlier = (
        f"OR event_id IN (SELECT event_id FROM {lake.files_relation(existing, union_by_name=True)})"
        if existing
        else ""
    )
    return f"""
        CREATE OR REPLACE TEMP TABLE stripe_dups AS
        SELECT part, k FROM (
            SELECT part, k, event_id,
                   row_number() OVER (PARTITION BY event_id ORDER BY part, k) AS n
            FROM stripe_all_env WHERE reason IS NULL
        )
        WHERE n > 1 {earlier}
    """


FILE_STATS = """
    SELECT a.filename,
           count(*) AS records_read,
           count(*) FILTER (WHERE a.reason IS NOT NULL) AS quarantined,
           count(d.k) AS duplicates
    FROM stripe_all_env a LEFT JOIN stripe_dups d ON a.part = d.part AND a.k = d.k
    GROUP BY a.filename
"""

BAD_ROWS = """
    SELECT e.filename, e.rn - o.off AS position, e.reason, e.bad_line AS raw
    FROM stripe_jl_env e JOIN stripe_jl_off o USING (filename)
    WHERE e.reason IS NOT NULL AND e.reason <> 'blank'
    UNION ALL
    SELECT filename, position, reason, line FROM stripe_js_env WHERE reason IS NOT NULL
    ORDER BY 1, 2
"""

BAD_DOCS = "SELECT filename, kind, text FROM stripe_js_docs WHERE kind NOT IN ('event', 'list', 'array')"

_OUTPUT_COLUMNS = """
    event_id, type, created, livemode, api_version, object_type, object_id, customer_ref
"""


# Everything pass 2 needs per JSONL line except the line itself, one row per physical line in
# `rn` order. Pass 2's positional scan runs on one thread, so the joins (file offsets, duplicate
# list) are done here, in parallel and on narrow rows, leaving pass 2 a plain filter.
CREATE_JSONL_LAND = f"""
    CREATE OR REPLACE TEMP TABLE stripe_jl_land AS
    SELECT e.filename, e.len, {_OUTPUT_COLUMNS}, parse_filename(e.filename) AS source_file,
           e.rn - o.off AS position, e.reason IS NULL AND d.k IS NULL AS keep
    FROM stripe_jl_env e
    JOIN stripe_jl_off o USING (filename)
    LEFT JOIN (SELECT k FROM stripe_dups WHERE part = 0) d ON d.k = e.rn
    ORDER BY e.rn
"""


def landed_rows(jsonl_source: str | None, has_json: bool) -> str:
    """Pass 2: the batch rows. JSONL lines are paired with `stripe_jl_land` (CREATE_JSONL_LAND) by
    POSITIONAL JOIN (both scans are in file order); a file/length mismatch raises instead of landing
    misattributed rows."""
    parts = []
    if jsonl_source:
        parts.append(f"""
            SELECT {_OUTPUT_COLUMNS}, l.line AS payload, e.source_file, e.position, now() AS landed_at
            FROM (SELECT filename, line FROM {jsonl_source}) l
            POSITIONAL JOIN (SELECT * FROM stripe_jl_land) e
            WHERE CASE
                WHEN l.filename IS DISTINCT FROM e.filename OR strlen(l.line) IS DISTINCT FROM e.len
                THEN error('stripe landing: pass 2 lines out of step with pass 1')
                ELSE e.keep
            END
        """)
    if has_json:
        parts.append(f"""
            SELECT {_OUTPUT_COLUMNS}, line AS payload, parse_filename(filename) AS source_file,
                   position, now() AS landed_at
            FROM (SELECT *, row_number() OVER (ORDER BY filename, position) AS k FROM stripe_js_env)
            WHERE reason IS NULL AND k NOT IN (SELECT k FROM stripe_dups WHERE part = 1)
        """)
    return "\nUNION ALL\n".join(parts)
