"""The consent ledger: every consent statement from every source, typed, with nothing dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake, lake_views

# `user_id` / `anonymous_id`: statements from behavioural events (lib.consent.events)
IDENTIFIER_TYPES = ("email", "phone", "stripe_customer", "customer_id", "user_id", "anonymous_id")
# The ledger's columns are the catalog's (`consent_ledger`): a statement's eight, then the two the
# ledger adds (`known_purpose`, `unusable_reason`).
STATEMENT_COLUMN_COUNT = 8


@dataclass
class ConsentLedger:
    """A ledger materialized as a DuckDB temp table, with what was found while building it.

    `unknown_purposes` counts statements per purpose outside the configured list (kept, not used);
    `unusable` counts statements that cannot decide anything, per reason (kept, not used).
    """

    table: str
    rows: int
    unknown_purposes: dict[str, int] = field(default_factory=dict)
    unusable: dict[str, int] = field(default_factory=dict)

    @property
    def usable_sql(self) -> str:
        """The statements that take part in effective consent."""
        return f"(SELECT * FROM {self.table} WHERE known_purpose AND unusable_reason IS NULL)"


def _column_types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation} AS s").fetchall()
    return {row[0]: str(row[1]).upper() for row in rows}


def _timestamp_expr(column_type: str | None) -> str:
    # Naive timestamps are UTC by the architecture's rule; casting them would apply the session zone.
    if column_type is None:
        return "CAST(NULL AS TIMESTAMP WITH TIME ZONE)"
    if column_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return "captured_at"
    if column_type.startswith("TIMESTAMP") or column_type == "DATE":
        return "timezone('UTC', CAST(captured_at AS TIMESTAMP))"
    return "TRY_CAST(captured_at AS TIMESTAMP WITH TIME ZONE)"


def _statement_select(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    types = _column_types(con, relation)

    def text(column: str, transform: str = "{c}") -> str:
        if column not in types:
            return f"CAST(NULL AS VARCHAR) AS {column}"
        return f"{transform.format(c=f'CAST({column} AS VARCHAR)')} AS {column}"

    granted = "TRY_CAST(granted AS BOOLEAN)" if "granted" in types else "CAST(NULL AS BOOLEAN)"
    return (
        "SELECT "
        + ", ".join(
            [
                text("identifier_type", "lower(trim({c}))"),
                text("identifier"),
                text("purpose", "lower(trim({c}))"),
                f"{granted} AS granted",
                f"{_timestamp_expr(types.get('captured_at'))} AS captured_at",
                text("source"),
                text("source_record"),
                text("source_file"),
            ]
        )
        + f" FROM {relation} AS s"
    )


def build_consent_ledger(
    con: duckdb.DuckDBPyConnection,
    statement_tables: Sequence[str],
    purposes: Sequence[str],
    table: str = "_consent_ledger",
) -> ConsentLedger:
    """Union every consent statement table (the columns of `landed_consent`) into the temp table `table`.

    `statement_tables` are table or view names (or parenthesized queries), such as the views
    `landed_consent` and `stripe_consents`. `table` must not be a catalog table's name: that
    name is the table's view (`lake_views`). Purposes and identifier types are trimmed and lower-cased;
    statements for unknown purposes or without identifier, decision or timestamp stay in the
    ledger with `known_purpose = false` / an `unusable_reason`, and are counted.
    """
    known = sorted({p.strip().lower() for p in purposes})
    known_list = lake.sql_literal_list(known) if known else "NULL"
    id_types = lake.sql_literal_list(IDENTIFIER_TYPES)
    parts = [_statement_select(con, relation) for relation in statement_tables]
    if not parts:
        statement_fields = list(catalog.table("consent_ledger").schema)[:STATEMENT_COLUMN_COUNT]
        empty = ", ".join(
            f"CAST(NULL AS {catalog.duckdb_type(f.type)}) AS {f.name}" for f in statement_fields
        )
        parts = [f"SELECT {empty} WHERE false"]
    union = " UNION ALL ".join(f"({part})" for part in parts)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT *,
            coalesce(purpose IN ({known_list}), false) AS known_purpose,
            CASE
                WHEN identifier IS NULL OR trim(identifier) = '' THEN 'missing identifier'
                WHEN identifier_type IS NULL OR identifier_type NOT IN ({id_types})
                    THEN 'unknown identifier type'
                WHEN purpose IS NULL OR purpose = '' THEN 'missing purpose'
                WHEN granted IS NULL THEN 'missing or invalid granted'
                WHEN captured_at IS NULL THEN 'missing or invalid captured_at'
            END AS unusable_reason
        FROM ({union})
        """
    )
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    unknown = con.execute(
        f"SELECT purpose, count(*) FROM {table} WHERE NOT known_purpose AND purpose IS NOT NULL "
        "AND purpose <> '' GROUP BY ALL ORDER BY 1"
    ).fetchall()
    unusable = con.execute(
        f"SELECT unusable_reason, count(*) FROM {table} WHERE unusable_reason IS NOT NULL GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return ConsentLedger(
        table=table,
        rows=int(rows),
        unknown_purposes={str(p): int(n) for p, n in unknown},
        unusable={str(r): int(n) for r, n in unusable},
    )


def write_ledger(con: duckdb.DuckDBPyConnection, ledger: ConsentLedger, lake_dir: Path) -> int:
    """Write the ledger as the lake table `consent_ledger` (checked against the catalog, atomic)."""
    order = "captured_at, identifier_type, purpose, source, source_record"
    return lake_views.write_query(
        con, lake_dir, "consent_ledger", f"SELECT * FROM {ledger.table} ORDER BY {order}"
    )
