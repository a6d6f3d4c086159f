"""The blocking audience check: re-verify the planned rows against consent and suppression."""

from __future__ import annotations

import uuid

from uds_pipelines.lib.audiences import destinations
from uds_pipelines.lib.audiences.plan import COUNT_KEYS, FORMAT_COLUMNS, AudiencePlan

HEX64 = "[0-9a-f]{64}"


def hashed_columns(fmt: str) -> list[str]:
    """The columns of a format that must hold a SHA-256 hex digest or nothing."""
    if fmt == "hashed":
        return ["email_sha256", "phone_sha256"]
    if fmt in destinations.DESTINATION_FORMATS:
        return destinations.hashed_columns(fmt)
    return []


def check_audience(plan: AudiencePlan) -> tuple[bool, dict]:
    """Pass only when no planned row lacks consent or is erased/suppressed, and the counts add up.

    The rows are looked up again in the effective consent and exclusion relations instead of
    trusting the filter that produced them. `details` holds counts and customer ids only (no
    personal data), so it can go straight into Dagster metadata.
    """
    audience = plan.audience
    con = plan.con
    view = f"_audience_check_{uuid.uuid4().hex[:8]}"
    con.register(view, plan.rows)
    try:
        no_consent = con.execute(
            f"""
            SELECT r.customer_id FROM {view} AS r
            WHERE NOT coalesce((SELECT bool_and(c.granted) FROM {plan.effective_consent} AS c
                                WHERE CAST(c.customer_id AS VARCHAR) = r.customer_id AND c.purpose = ?),
                               false)
               OR r.customer_id IS NULL
            ORDER BY 1 LIMIT 1000
            """,
            [audience.purpose],
        ).fetchall()
        suppressed: list = []
        if plan.excluded_customers_sql:
            suppressed = con.execute(
                f"SELECT r.customer_id FROM {view} AS r WHERE r.customer_id IN "
                f"(SELECT CAST(customer_id AS VARCHAR) FROM {plan.excluded_customers_sql} AS x) "
                "ORDER BY 1 LIMIT 1000"
            ).fetchall()
        duplicates = con.execute(f"SELECT count(*) - count(DISTINCT customer_id) FROM {view}").fetchall()[0][
            0
        ]
        bad_hashes = 0
        hashed = hashed_columns(audience.format)
        if hashed and set(hashed) <= set(plan.rows.column_names):
            malformed = " OR ".join(
                f"NOT regexp_full_match(coalesce(\"{c}\", repeat('0', 64)), '{HEX64}')" for c in hashed
            )
            bad_hashes = con.execute(f"SELECT count(*) FROM {view} WHERE {malformed}").fetchall()[0][0]
    finally:
        con.unregister(view)
    counts = {k: int(plan.counts.get(k, 0)) for k in COUNT_KEYS}
    adds_up = (
        counts["in_segment"] == sum(counts[k] for k in COUNT_KEYS[1:])
        and counts["exported"] == plan.rows.num_rows
    )
    columns_ok = plan.rows.column_names == FORMAT_COLUMNS[audience.format]
    details = {
        "audience": audience.name,
        "purpose": audience.purpose,
        "rows_checked": plan.rows.num_rows,
        "rows_without_consent": len(no_consent),
        "rows_erased_or_suppressed": len(suppressed),
        "duplicate_customers": int(duplicates),
        "malformed_hashes": int(bad_hashes),
        "counts_add_up": adds_up,
        "columns_match_format": columns_ok,
        "sample_customer_ids_without_consent": [r[0] for r in no_consent[:10]],
        "sample_customer_ids_suppressed": [r[0] for r in suppressed[:10]],
        **counts,
    }
    passed = (
        not no_consent and not suppressed and duplicates == 0 and bad_hashes == 0 and adds_up and columns_ok
    )
    return passed, details
