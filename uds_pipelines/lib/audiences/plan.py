"""Plan an audience: segment members, minus the erased/suppressed, minus those without consent."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from uds_pipelines.lib.audiences import destinations
from uds_pipelines.lib.audiences.definitions import AudienceDefinition
from uds_pipelines.lib.audiences.hashing import email_sha256_sql, phone_sha256_sql

# The columns of a planned row: `customer_id` first (consent is re-checked by it), then the cells.
FORMAT_COLUMNS: dict[str, list[str]] = {
    "email": ["customer_id", "email", "first_name", "last_name"],
    "hashed": ["customer_id", "email_sha256", "phone_sha256"],
    **{fmt: ["customer_id", *destinations.file_columns(fmt)] for fmt in destinations.DESTINATION_FORMATS},
}
# The columns of the file: a platform's file has exactly its documented headers (Meta's carries
# our id as `extern_id`, Google's none); our generic files lead with `customer_id`.
FILE_COLUMNS: dict[str, list[str]] = {
    fmt: columns[1:] if fmt in destinations.DESTINATION_FORMATS else columns
    for fmt, columns in FORMAT_COLUMNS.items()
}
# in_segment == the sum of the others. `excluded_no_match_key`: consented members whose row
# would hold nothing the platform matches on (see destinations.MATCH_KEYS); always 0 otherwise.
COUNT_KEYS = (
    "in_segment",
    "excluded_no_consent",
    "excluded_erased_or_suppressed",
    "exported",
    "excluded_no_match_key",
)
# What a plan reads of a profile: every format's columns are made from these.
PROFILE_COLUMNS = ("customer_id", "email", "phone", "first_name", "last_name", "country")


@dataclass
class AudiencePlan:
    """The rows to export (`rows`, columns per FORMAT_COLUMNS) and the counts that explain them.

    `counts` holds COUNT_KEYS (in_segment == exported + the three exclusions) plus informational
    `members_without_profile` and `exported_without_contact`. The relations used are kept so
    `check_audience` can re-verify the rows independently on the same connection:
    `effective_consent` a table or view (the view `effective_consent`), `excluded_customers_sql`
    a query.
    """

    audience: AudienceDefinition
    rows: pa.Table
    counts: dict[str, int]
    effective_consent: str
    excluded_customers_sql: str | None
    con: duckdb.DuckDBPyConnection = field(repr=False)


def query_arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """A query result as one Arrow table, without the extra copy a DB-API cursor makes."""
    return con.sql(sql).to_arrow_table()


def _select_columns(fmt: str) -> str:
    if fmt == "email":
        return "customer_id, email, first_name, last_name"
    if fmt == "hashed":
        return f"customer_id, {email_sha256_sql('email')} AS email_sha256, {phone_sha256_sql('phone')} AS phone_sha256"
    return destinations.select_sql(fmt)


def _exclude_without_match_key(con: duckdb.DuckDBPyConnection, fmt: str) -> None:
    """Re-decide consented rows that would carry nothing the platform can match on."""
    if fmt not in destinations.MATCH_KEYS:
        return
    con.execute(
        f"""
        UPDATE _audience_plan SET decision = 'excluded_no_match_key'
        WHERE has_profile AND decision = 'exported' AND customer_id IN (
            SELECT customer_id FROM (
                SELECT {_select_columns(fmt)} FROM _audience_plan WHERE has_profile AND decision = 'exported'
            ) AS cells WHERE NOT ({destinations.match_key_sql(fmt)})
        )
        """
    )


def plan_audience(
    con: duckdb.DuckDBPyConnection,
    audience: AudienceDefinition,
    membership: str,
    profiles: str,
    effective_consent: str,
    excluded_customers_sql: str | None = None,
) -> AudiencePlan:
    """Decide, for every member of the audience's segment, whether they are exported and why not.

    `membership` is a table or view `(customer_id, segment, ...)` (the view `segment_membership`),
    `profiles` the customer profiles (`customer_profiles`), `effective_consent` the long form `(customer_id, purpose, granted, ...)` where a missing row
    means no, `excluded_customers_sql` a relation of erased/suppressed `customer_id`s. Erased or
    suppressed wins over consent when both apply, so each member is counted exactly once.
    """
    excluded = (
        f"(SELECT DISTINCT CAST(customer_id AS VARCHAR) AS customer_id FROM {excluded_customers_sql} AS x0 "
        "WHERE customer_id IS NOT NULL)"
        if excluded_customers_sql
        else "(SELECT CAST(NULL AS VARCHAR) AS customer_id WHERE false)"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _audience_plan AS
        WITH seg AS (
            SELECT DISTINCT CAST(customer_id AS VARCHAR) AS customer_id FROM {membership} AS m
            WHERE segment = ? AND customer_id IS NOT NULL
        ),
        consent AS (
            SELECT CAST(customer_id AS VARCHAR) AS customer_id, bool_and(granted) AS granted
            FROM {effective_consent} AS c WHERE purpose = ? GROUP BY 1
        ),
        prof AS (
            SELECT CAST(customer_id AS VARCHAR) AS customer_id, {", ".join(PROFILE_COLUMNS[1:])}
            FROM {profiles} AS p
            WHERE CAST(customer_id AS VARCHAR) IN (SELECT customer_id FROM seg)
        )
        SELECT s.customer_id, p.customer_id IS NOT NULL AS has_profile,
            CASE WHEN x.customer_id IS NOT NULL THEN 'excluded_erased_or_suppressed'
                 WHEN coalesce(c.granted, false) THEN 'exported'
                 ELSE 'excluded_no_consent' END AS decision,
            p.email, p.phone, p.first_name, p.last_name, p.country
        FROM seg AS s
        LEFT JOIN prof AS p ON p.customer_id = s.customer_id
        LEFT JOIN {excluded} AS x ON x.customer_id = s.customer_id
        LEFT JOIN consent AS c ON c.customer_id = s.customer_id
        """,
        [audience.segment, audience.purpose],
    )
    _exclude_without_match_key(con, audience.format)
    # Profiles hold one row per customer; a duplicate would show up as a duplicate export row,
    # which check_audience blocks. Members whose profile is gone (e.g. erased since segmentation) are reported, never exported.
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for decision, n in con.execute(
        "SELECT decision, count(*) FROM _audience_plan WHERE has_profile GROUP BY ALL"
    ).fetchall():
        counts[decision] = int(n)
    counts["in_segment"] = sum(counts[k] for k in COUNT_KEYS[1:])
    counts["members_without_profile"] = int(
        con.execute("SELECT count(*) FROM _audience_plan WHERE NOT has_profile").fetchall()[0][0]
    )
    contact = "email" if audience.format == "email" else "coalesce(email, phone)"
    counts["exported_without_contact"] = int(
        con.execute(
            f"SELECT count(*) FROM _audience_plan WHERE has_profile AND decision = 'exported' "
            f"AND nullif(trim({contact}), '') IS NULL"
        ).fetchall()[0][0]
    )
    rows = query_arrow(
        con,
        f"SELECT {_select_columns(audience.format)} FROM _audience_plan "
        "WHERE has_profile AND decision = 'exported' ORDER BY customer_id",
    )
    con.execute("DROP TABLE _audience_plan")
    return AudiencePlan(audience, rows, counts, effective_consent, excluded_customers_sql, con)
