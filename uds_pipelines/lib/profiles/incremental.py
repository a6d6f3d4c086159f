"""Profiles rebuilt only for the customers whose inputs changed since the last run.

A profile's base (`build.base_steps`: attributes, money, subscriptions, survey and form figures)
depends on the person's records and Stripe objects alone; consent, event traits, RFM scores,
predictions and the reporting-currency value depend on the as-of time (its exchange rates) or on
every customer, and are joined to the whole base on every run (one pass over a table of one row
per customer). So the base is kept as state (`profile_state`) and a run recomputes it only for
the customers

- whose records changed: each state row carries `records_fingerprint`, a hash of every identity
  map row of the customer with its person record's raw-column hash (`source_hash`) and stored
  normalized attributes (a rebuild of identity inputs with an upgraded normalizer changes those,
  not the raw hash). A record added, gone, moved to another customer (both customers) or changed
  changes it; so does a customer gone from the map or new to it;
- holding a Stripe object of a part (`keyed_parts`) this step has not read yet: every new or
  changed charge, invoice, refund or subscription lands in a new part, and stays out of the step's
  watermark until it is read. A charge's money depends on its refunds and an invoice counts only
  when its charge is not staged, so the customers of the charges and invoices a new object refers
  to are included too. Stripe never moves a charge, invoice or subscription to another customer,
  nor a refund to another charge, so an object's owner before is its owner now;
- with a described record but no state row (erasure removes a row whose text names an erased
  person, e.g. another customer's survivor e-mail).

The whole base is computed instead when there is no state, the state was computed with other SQL
or settings (`salt`: the base SQL text, which holds the default region), a part this step read
is gone (compaction, a rebuild of Stripe staging, or erasure emptying it: rows may have gone with
it unseen), `--rebuild` asks for it, or the change reaches more than half of the customers. The state and its fingerprints are one file, written before the
watermark: a crash in between makes the next run read those parts again, never skip them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake_views, watermarks
from uds_pipelines.lib.watermarks import PendingBatches

STEP = "customer_profiles"
STATE = "profile_state"
STRIPE_TABLES = ("stripe_charges", "stripe_invoices", "stripe_refunds", "stripe_subscriptions")
MAX_SHARE = 0.5  # above this share of customers changed, the whole base costs no more
AFFECTED = "_pf_affected"
_FINGERPRINTS = "_pf_fingerprints"
# What the base reads from a record besides its raw columns (`source_hash`): its stored normalized
# attributes and its source's priority. Sums of two hashes of two layouts per customer: one 64-bit
# string hash, summed, can miss a change (identity's fingerprints met such a pair).
_RECORD = (
    "m.source, m.record_id, r.source_hash, r.email_n, r.phone_n, r.country_n, r.first_name_n, "
    "r.last_name_n, r.normalized, r.priority"
)


@dataclass
class Scope:
    """Which customers' base this run computes: all (`whole`, with the `reason`) or `AFFECTED`."""

    whole: bool
    reason: str
    customers: int = 0  # customers recomputed (in a whole run: every customer with a record)
    pending: list[PendingBatches] = field(default_factory=list)

    def figures(self) -> dict[str, int | str]:
        return {"scope": "whole" if self.whole else "part", "reason": self.reason,
                "customers_recomputed": self.customers}  # fmt: skip


def salt(steps: list[tuple[str, str]], final: str) -> str:
    """A hash of the base's SQL: other code or settings make another salt."""
    text = "\n".join([*(f"{name}:{sql}" for name, sql in steps), final])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def find_scope(con: duckdb.DuckDBPyConnection, lake_dir: Path, salt_now: str, rebuild: bool) -> Scope:
    """Decide the run's scope; for a part, create the temp table `AFFECTED` (customer_id)."""
    pending = [watermarks.pending(con, lake_dir, STEP, table) for table in STRIPE_TABLES]
    lake_views.register(con, lake_dir, [STATE])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {_FINGERPRINTS} AS
        SELECT m.customer_id,
               CAST(hash(sum(hash({_RECORD})::HUGEINT), sum(hash(concat_ws(chr(31), {_RECORD}))::HUGEINT))
                    & 9223372036854775807 AS BIGINT) AS records_fingerprint,
               bool_or(r.record_id IS NOT NULL) AS described
        FROM identity_map m LEFT JOIN person_records r USING (source, record_id)
        GROUP BY m.customer_id
    """)  # fmt: skip
    if rebuild:
        return _whole("rebuild asked for", pending)
    rows, salts = con.execute(f"SELECT count(*), count(DISTINCT inputs_salt) FROM {STATE}").fetchone()
    if rows == 0:
        return _whole("no profile state", pending)
    stored = con.execute(f"SELECT any_value(inputs_salt) FROM {STATE}").fetchone()[0]
    if salts != 1 or stored != salt_now:
        return _whole("the profile SQL or settings changed", pending)
    if any(watermarks.merged(con, lake_dir, STEP, p.table) - watermarks.present(lake_dir, p.table) for p in pending):
        return _whole("a Stripe part read before is gone", pending)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {AFFECTED} AS {_affected_sql(pending, con)}")
    count = con.execute(f"SELECT count(*) FROM {AFFECTED}").fetchone()[0]
    if count > MAX_SHARE * rows:
        return _whole(f"{count} of {rows} customers changed", pending)
    return Scope(False, "changed customers only", int(count), pending)


def _whole(reason: str, pending: list[PendingBatches]) -> Scope:
    return Scope(True, reason, 0, pending)


def _affected_sql(pending: list[PendingBatches], con: duckdb.DuckDBPyConnection) -> str:
    charges, invoices, refunds, subscriptions = (p.relation(con) for p in pending)
    return f"""
    WITH stripe_owners AS (
        SELECT customer_id FROM {charges} UNION ALL SELECT customer_id FROM {invoices}
        UNION ALL SELECT customer_id FROM {subscriptions}
        UNION ALL
        SELECT customer_id FROM stripe_invoices
        WHERE invoice_id IN (SELECT invoice_id FROM {charges}) OR charge_id IN (SELECT charge_id FROM {charges})
           OR charge_id IN (SELECT charge_id FROM {refunds})
        UNION ALL
        SELECT customer_id FROM stripe_charges
        WHERE charge_id IN (SELECT charge_id FROM {refunds}) OR charge_id IN (SELECT charge_id FROM {invoices})
    )
    -- records changed, customers new (with a described record) or gone
    SELECT coalesce(f.customer_id, s.customer_id) AS customer_id
    FROM {_FINGERPRINTS} f FULL JOIN (SELECT customer_id, records_fingerprint FROM {STATE}) s USING (customer_id)
    WHERE CASE WHEN s.customer_id IS NULL THEN f.described
               ELSE f.records_fingerprint IS DISTINCT FROM s.records_fingerprint END
    UNION SELECT m.customer_id FROM identity_map m
          WHERE m.source = 'stripe' AND m.record_id IN (SELECT customer_id FROM stripe_owners)
    """


def merge(con: duckdb.DuckDBPyConnection, fresh: str, target: str) -> None:
    """The temp table `target`: the state's rows of customers not affected, and `fresh`."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        SELECT * EXCLUDE (records_fingerprint, inputs_salt) FROM {STATE}
        WHERE customer_id NOT IN (SELECT customer_id FROM {AFFECTED})
        UNION ALL BY NAME SELECT * FROM {fresh}
    """)  # fmt: skip


def save(con: duckdb.DuckDBPyConnection, lake_dir: Path, base: str, salt_now: str, scope: Scope) -> None:
    """Write the state from the temp table `base`, with each customer's records fingerprint, then
    the watermark."""
    columns = ", ".join(f"b.{c}" for c in catalog.table(STATE).columns[:-2])  # the base's: then the two added here
    # unsorted: only this step reads it, by customer (sorting a million rows cost a second)
    lake_views.write_query(con, lake_dir, STATE, f"""
        SELECT {columns}, f.records_fingerprint, '{salt_now}' AS inputs_salt
        FROM {base} b JOIN {_FINGERPRINTS} f USING (customer_id)
    """)  # fmt: skip
    watermarks.commit(con, lake_dir, STEP, scope.pending)
    con.execute(f"DROP TABLE IF EXISTS {_FINGERPRINTS}; DROP TABLE IF EXISTS {AFFECTED}")
