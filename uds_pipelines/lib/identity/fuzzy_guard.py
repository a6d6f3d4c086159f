"""The guardrail against chains of fuzzy links: strangers joined through look-alikes.

Each fuzzy link is judged on its own pair, so A~B and B~C can put A and C in one customer although
they were never compared. Within one true person that is what we want (a typo-free record bridging
two damaged ones); across people it grows into ever larger components. A component that holds
fuzzy links and more than `max_fuzzy_component_records` records therefore loses its weak fuzzy
links (within the review band above the threshold) first and then, if still too large, all of them;
they stay visible in `match_links` with `cut_by = fuzzy_component_size`. This runs after the other
guardrails' cuts, so it only ever splits components further.
"""

from __future__ import annotations

import duckdb

from uds_pipelines.lib.identity import scratch
from uds_pipelines.lib.identity.linking import graph_size, recompute_offending

RULE_FUZZY_COMPONENT = "fuzzy_component_size"


def cap_fuzzy_components(con: duckdb.DuckDBPyConnection, max_records: int, weak_below: float) -> int:
    """Cut fuzzy links in components over `max_records`: those with probability < `weak_below`, then
    the rest. Returns the number of links cut (`_idr_pairs`, `_idr_comp` must exist)."""
    exists = con.execute(
        f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{scratch.PAIRS}' AND temporary"
    ).fetchall()[0][0]
    if not exists:
        return 0
    n_rec, n_val = graph_size(con)
    cut_total = 0
    for weak_only in (True, False):
        offending = con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {scratch.OFFENDING} AS
            SELECT c.comp FROM {scratch.COMP} c GROUP BY c.comp HAVING count(*) > {int(max_records)}
            INTERSECT
            SELECT c.comp FROM {scratch.PAIRS} p JOIN {scratch.VALUES} v USING (val_id)
            JOIN {scratch.COMP} c ON c.rec_idx = p.rec_l WHERE v.rule IS NULL;
            SELECT count(*) FROM {scratch.OFFENDING}
            """
        ).fetchall()[0][0]
        if offending == 0:
            break
        weak = f"AND p.match_probability < {float(weak_below)!r}" if weak_only else ""
        cut = con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {scratch.CUT} AS
            SELECT p.val_id FROM {scratch.PAIRS} p JOIN {scratch.VALUES} v USING (val_id)
            JOIN {scratch.COMP} c ON c.rec_idx = p.rec_l
            WHERE v.rule IS NULL AND c.comp IN (SELECT comp FROM {scratch.OFFENDING}) {weak};
            UPDATE {scratch.VALUES} SET rule = '{RULE_FUZZY_COMPONENT}'
            WHERE val_id IN (SELECT val_id FROM {scratch.CUT});
            SELECT count(*) FROM {scratch.CUT}
            """
        ).fetchall()[0][0]
        cut_total += cut
        if cut:
            recompute_offending(con, n_rec, n_val)
    return cut_total
