"""DuckDB SQL that reads Stripe event files as text and extracts the event envelope."""

from __future__ import annotations

from pathlib import Path

# A delimiter that cannot occur in a valid JSON line (raw control characters must be escaped
# in JSON), so read_csv yields each physical line whole as one VARCHAR column. A line that
# does contain it is invalid JSON anyway; strict mode then fails and the file is cleaned first.
LINE_DELIMITER = "\x1e\x1f\x1e"
MAX_LINE_BYTES = 16 * 1024 * 1024
# Largest unix second DuckDB's to_timestamp accepts comfortably (9999-12-31).
MAX_UNIX_SECONDS = 253_402_300_799

# A line may hold a number Stripe staging cannot cast to its int64 amounts and timestamps: a
# non-finite DOUBLE (`1e400`, a 400-digit integer, `NaN`, `Infinity`) or a finite magnitude past
# int64 (`1e30`, 20 digits); staging would read a null amount and still count the order. Stripe
# itself never sends one. This pattern is a cheap superset of such numbers (a JSON number only
# follows `:`, `,` or `[`; past int64 needs 19+ digits or a 2+-digit exponent); only the few lines
# it matches are walked with json_tree in `resolve_suspect_numbers`.
SUSPECT_NUMBER = r"[:,\[][ \t\r\n]*-?([0-9.]*[eE][+-]?[0-9]{2}|[0-9]{19}|(?i:nan|inf))"
# The same pattern split by its leading character: RE2 skips to a literal first byte with memchr
# instead of stepping its automaton over every byte, so the three together cost ~40% of the one
# (every line is scanned: ~3 us per 1 KB line for the one, ~1.2 us for the three).
_SUSPECT_AFTER = SUSPECT_NUMBER.removeprefix(r"[:,\[]")
SUSPECT_NUMBER_SPLIT = tuple(lead + _SUSPECT_AFTER for lead in (":", ",", r"\["))

# Reason codes computed in SQL; the readable reason is formatted in Python (reasons.py) for the
# few rows that have one.
ENVELOPE_FIELDS = """
    reason,
    e[1] AS event_id,
    e[2] AS type,
    CASE WHEN reason IS NULL OR reason = 'suspect_number' THEN to_timestamp(TRY_CAST(e[3] AS BIGINT)) END AS created,
    TRY_CAST(e[4] AS BOOLEAN) AS livemode,
    e[5] AS api_version,
    e[6] AS object_type,
    e[7] AS object_id,
    CASE WHEN e[6] = 'customer' THEN e[7] WHEN t[6] = 'OBJECT' THEN e[9] ELSE e[8] END AS customer_ref
"""


def sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def sql_list(values: list[str] | list[Path]) -> str:
    return "[" + ", ".join(sql_str(v) for v in values) + "]"


def jsonl_source(paths: list[Path]) -> str:
    """read_csv over JSONL files: one VARCHAR row per physical line (blank lines give NULL rows)."""
    return (
        f"read_csv({sql_list(paths)}, columns={{'line': 'VARCHAR'}}, header=false, auto_detect=false, "
        f"delim={sql_str(LINE_DELIMITER)}, quote='', escape='', filename=true, "
        f"max_line_size={MAX_LINE_BYTES}, buffer_size={2 * MAX_LINE_BYTES})"
    )


def typed_envelope(line: str) -> str:
    """Select list computing `ok` (valid JSON), `t` (JSON types) and `e` (envelope strings) of `line`.

    Each JSON function parses the text once for all its paths."""
    suspect = " OR ".join(f"regexp_matches({line}, {sql_str(p)})" for p in SUSPECT_NUMBER_SPLIT)
    return f"""
        json_valid({line}) AS ok,
        CASE WHEN ok THEN json_type({line},
            ['$', '$.id', '$.type', '$.created', '$.data.object', '$.data.object.customer']) END AS t,
        CASE WHEN ok THEN json_extract_string({line},
            ['$.id', '$.type', '$.created', '$.livemode', '$.api_version', '$.data.object.object',
             '$.data.object.id', '$.data.object.customer', '$.data.object.customer.id']) END AS e,
        CASE WHEN ok THEN ({suspect}) END AS suspect
    """


REASON_CASE = f"""
    CASE
        WHEN line IS NULL THEN 'blank'
        -- trim copies the string: only worth doing for short lines
        WHEN len < 64 AND trim(line, ' \t\r\n') = '' THEN 'blank'
        WHEN NOT ok THEN 'invalid_json'
        WHEN t[1] <> 'OBJECT' THEN 'not_object:' || t[1]
        WHEN t[2] IS DISTINCT FROM 'VARCHAR' OR e[1] = '' THEN 'no_id'
        WHEN t[3] IS DISTINCT FROM 'VARCHAR' OR e[2] = '' THEN 'no_type'
        WHEN t[4] NOT IN ('UBIGINT', 'BIGINT') OR t[4] IS NULL
             OR NOT (TRY_CAST(e[3] AS BIGINT) BETWEEN 0 AND {MAX_UNIX_SECONDS}) THEN 'bad_created'
        WHEN t[5] IS DISTINCT FROM 'OBJECT' THEN 'no_data_object'
        WHEN suspect THEN 'suspect_number'
    END AS reason
"""


INT64_MAX = 2**63 - 1


def resolve_suspect_numbers(table: str, key: str, text: str) -> str:
    """Settle the `suspect_number` rows of `table`: the first number past int64 (or non-finite) makes the reason
    `number_range:<path>` (an overflowing literal) or `number_literal:<path>` (NaN, Infinity);
    a false alarm (the pattern matched inside a string) clears the reason."""
    return f"""
        UPDATE {table} AS t SET reason = r.code
        FROM (
            SELECT s.filename, s.{key}, (
                SELECT CASE WHEN regexp_matches(j.atom, '^-?[0-9]') THEN 'number_range:' ELSE 'number_literal:' END
                       || j.fullkey
                FROM json_tree(s.{text}) AS j
                WHERE j.type IN ('DOUBLE', 'UBIGINT', 'HUGEINT')
                  AND NOT coalesce(abs(TRY_CAST(j.atom AS DOUBLE)) <= {INT64_MAX}::DOUBLE, false)
                ORDER BY j.id LIMIT 1
            ) AS code
            FROM {table} AS s WHERE s.reason = 'suspect_number'
        ) AS r
        WHERE t.filename = r.filename AND t.{key} = r.{key}
    """


def create_jsonl_env(source: str) -> list[str]:
    """Pass 1 over JSONL: a narrow table, one row per physical line in file order (`rn`).

    The payload is not kept; pass 2 re-reads the lines and pairs them with this table by position.
    Lines are not numbered while parsing: `row_number() OVER ()` is a streaming window that runs its
    whole pipeline on one thread. The parsed rows are stored in scan order (preserve_insertion_order,
    which the positional pairing relies on too), so a row's rowid is its line's index in the batch;
    `stripe_jl_env` is a view naming it `rn`. Updates go to `stripe_jl_raw` by rowid."""
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE stripe_jl_raw AS
        SELECT filename, len, {ENVELOPE_FIELDS},
               CASE WHEN reason IS NOT NULL AND reason <> 'blank' THEN line END AS bad_line
        FROM (
            SELECT *, {REASON_CASE}
            FROM (
                SELECT filename, line, strlen(line) AS len, {typed_envelope("line")}
                FROM {source}
            )
        )
        """,
        """
        CREATE OR REPLACE TEMP VIEW stripe_jl_env AS
        SELECT filename, rowid + 1 AS rn, * EXCLUDE (filename) FROM stripe_jl_raw
        """,
    ]


def create_json_docs(blob_source: str) -> str:
    """Whole `.json` files (small by nature: one webhook event or one API page) as text, classified."""
    return f"""
        CREATE OR REPLACE TEMP TABLE stripe_js_docs AS
        SELECT filename, text,
            CASE
                WHEN text IS NULL THEN 'bad_utf8'
                WHEN trim(text, ' \t\r\n') = '' THEN 'empty'
                WHEN NOT json_valid(text) THEN 'invalid_json'
                WHEN json_type(text) = 'ARRAY' THEN 'array'
                WHEN json_type(text) <> 'OBJECT' THEN 'not_object:' || json_type(text)
                WHEN json_extract_string(text, '$.object') = 'list' THEN
                    CASE WHEN json_type(text, '$.data') = 'ARRAY' THEN 'list' ELSE 'bad_list' END
                ELSE 'event'
            END AS kind
        FROM (
            -- a UTF-8 byte order mark (Windows tools) is not part of the JSON text
            SELECT filename, regexp_replace(try(decode(content)), '^' || chr(65279), '') AS text FROM {blob_source}
        )
    """


CREATE_JSON_ENV = f"""
    CREATE OR REPLACE TEMP TABLE stripe_js_env AS
    SELECT filename, position, line, {ENVELOPE_FIELDS}
    FROM (
        SELECT *, {REASON_CASE}
        FROM (
            SELECT filename, position, line, strlen(line) AS len, {typed_envelope("line")}
            FROM (
                SELECT filename, 1::BIGINT AS position, text AS line FROM stripe_js_docs WHERE kind = 'event'
                UNION ALL
                SELECT filename, generate_subscripts(items, 1)::BIGINT AS position, unnest(items)::VARCHAR AS line
                FROM (
                    SELECT filename,
                        CASE kind WHEN 'list' THEN json_extract(text, '$.data[*]')
                                  ELSE json_extract(text, '$[*]') END AS items
                    FROM stripe_js_docs WHERE kind IN ('list', 'array')
                )
            )
        )
    )
"""
