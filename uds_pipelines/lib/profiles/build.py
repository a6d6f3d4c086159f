"""Customer profiles: survivorship of personal attributes and computed traits, all in DuckDB.

Survivorship, per attribute (email, phone, names, country): the normalized value most of the
person's records agree on; a tie goes to the value of the best-ranked record, by source priority
(Stripe, then forms, then surveys) and then recency. One misspelled Stripe name loses to two forms
that spell it the same way. Names vote as a pair (first and last stay consistent), compared
without case or accents. A deleted Stripe customer's record has no vote and ranks after every other
record: its contact data is used only when nothing else has the value.

Money: Stripe amounts are in minor units. A charge and the invoice it paid are one order: paid
invoices count only when their charge is not in the data. A charge's refunds are the larger of its
`amount_refunded` (Stripe's running total) and the sum of its refund objects (one per refund id,
failed and canceled ones left out), so a refund seen both ways is subtracted once; refunds of a
charge known only through its invoice are subtracted from that invoice. A person paying in several
currencies has a primary `currency` (the one with the largest net total); `lifetime_value` is in
that currency's major unit, and every currency's total is kept in `lifetime_value_by_currency`
(JSON). `lifetime_value_reporting` converts every one of those totals to the reporting currency
and sums them (lib/fx.py: the rates in force as of the run); it is NULL when any of the person's
currencies has no rate, never a sum of the convertible part. `mrr` follows the primary-currency
rule: it is in `currency` (a person without orders takes the currency of their largest MRR),
every currency's MRR is in `mrr_by_currency`. A deleted customer's charges stay with the person; its subscriptions count as
canceled (Stripe cancels them on deletion).

Times: `first_seen_at` is the earliest record start (a Stripe customer's creation, a submission),
`last_seen_at` the latest record state or event (`person_events`), `first_signup_at` the earliest form or survey submission.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from uds_pipelines.lib import catalog, fx, lake
from uds_pipelines.lib.fx import minor_divisor_sql, round_sql
from uds_pipelines.lib.predictions.orders import order_steps
from uds_pipelines.lib.profiles.traits_sql import LAST_EVENT, CompiledTraits

ACTIVE_SUBSCRIPTION = ("active", "trialing", "past_due")

# Subscription states Stripe leaves a deleted customer's subscriptions in.
ENDED_SUBSCRIPTION = ("canceled", "incomplete_expired")


def _survivor(attribute: str, value: str, key: str, source: str) -> list[tuple[str, str]]:
    """Steps `<attribute>_votes` and `<attribute>_survivor`: per person, the value whose match key
    most live (not deleted) records share; ties to the best `rank_key` among each value's records."""
    return [
        (f"{attribute}_votes", f"""
        SELECT customer_id, arg_min({value}, rank_key) AS value, min(rank_key) AS best_rank,
               count(*) FILTER (WHERE NOT coalesce(deleted, false)) AS live_votes
        FROM {source} WHERE {value} IS NOT NULL GROUP BY customer_id, {key}"""),
        (f"{attribute}_survivor", f"""
        SELECT customer_id, arg_min(value, struct_pack(v := -live_votes, r := best_rank)) AS {attribute}
        FROM {attribute}_votes GROUP BY customer_id"""),
    ]


def _stored_or(column: str, normalize_sql: str, raw_sql: str) -> str:
    """The record's stored normalized `column`, or for a record merged before those columns existed
    (`normalized` NULL), the raw value normalized now (a Python call per row for phones). A NULL
    stored by a record normalized at merge is a value the normalizer refused: not tried again."""
    return (
        f"CASE WHEN r.normalized THEN r.{column} "
        f"ELSE coalesce(r.{column}, CASE WHEN {raw_sql} IS NOT NULL THEN {normalize_sql} END) END"
    )


Step = tuple[str, str]  # (name, SELECT): a CTE of the single query, or a temp table of `materialize`


def base_steps(default_region: str, records_table: str = "person_records",
               customers: str | None = None) -> tuple[list[Step], str]:  # fmt: skip
    """The steps and final SELECT of the profile's base: one row per customer_id with the CONTRACT
    columns up to `acquisition_source` but `lifetime_value_reporting`, `last_seen_at` from records
    only. The base depends on the person's records and Stripe objects and on the settings in the
    SQL, never on the as-of time, exchange rates, consent or events (`profile_sql` adds those).

    Reads the views `identity_map`, `stripe_charges`, `stripe_invoices`, `stripe_refunds`,
    `stripe_subscriptions` (`lake_views`), and the person records from `records_table` (the view
    `person_records`, or a table of the same columns: survey scores and form UTM sources too,
    so profiles never read landed rows that retention deletes). `customers` (a SELECT of
    customer_id): only those customers' rows.
    """
    region = default_region.replace("'", "")
    active = lake.sql_literal_list(ACTIVE_SUBSCRIPTION)
    ended = lake.sql_literal_list(ENDED_SUBSCRIPTION)
    only = f"WHERE m.customer_id IN ({customers})" if customers else ""
    stripe_map, *orders = order_steps(records_table)
    if customers:
        stripe_map = (stripe_map[0], f"SELECT * FROM ({stripe_map[1]}) WHERE customer_id IN ({customers})")
    steps: list[Step] = [
        # normalized when the record was merged; normalized here only where that was not stored
        # (records merged before the columns existed)
        ("rec", f"""
        SELECT m.customer_id, r.source, r.deleted, r.first_name, r.created_at, r.observed_at, r.nps, r.utm_source,
               {_stored_or("country_n", "uds_country(r.country)", "r.country")} AS country_n,
               {_stored_or("email_n", "uds_email_norm(r.email)", "r.email")} AS email_n,
               {_stored_or("phone_n", f"uds_phone_e164(r.phone, coalesce(uds_country(r.country), '{region}'))", "r.phone")}
                   AS phone_n,
               {_stored_or("first_name_n", "uds_name_norm(r.first_name)", "r.first_name")} AS first_name_n,
               {_stored_or("last_name_n", "uds_name_norm(r.last_name)", "r.last_name")} AS last_name_n,
               -- a deleted Stripe customer ranks after every other record of the person
               (CASE WHEN r.deleted THEN 9 ELSE r.priority END) * 10000000000
                   - coalesce(epoch(r.observed_at), 0) AS rank_key
        FROM {records_table} r JOIN identity_map m USING (source, record_id) {only}"""),
        ("named", """
        SELECT customer_id, deleted, rank_key,
               struct_pack(f := first_name_n, l := last_name_n) AS names
        FROM rec WHERE nullif(trim(first_name), '') IS NOT NULL"""),
        *_survivor("email", "email_n", "email_n", "rec"),
        *_survivor("phone", "phone_n", "phone_n", "rec"),
        *_survivor("country", "country_n", "country_n", "rec"),
        *_survivor("names", "names", "lower(strip_accents(concat_ws('|', names.f, names.l)))", "named"),
        ("record_times", """
        SELECT customer_id,
               min(coalesce(created_at, observed_at)) AS first_seen_at, max(observed_at) AS last_seen_at,
               min(observed_at) FILTER (WHERE source IN ('form', 'survey')) AS first_signup_at,
               count(*) FILTER (WHERE source = 'survey') AS surveys_count,
               count(*) FILTER (WHERE source = 'form') AS forms_count,
               arg_max(nps, observed_at) FILTER (WHERE source = 'survey' AND nps IS NOT NULL) AS nps_latest,
               arg_min(utm_source, observed_at) FILTER (WHERE source = 'form' AND nullif(trim(utm_source), '') IS NOT NULL)
                   AS acquisition_source
        FROM rec GROUP BY customer_id"""),
        stripe_map,
        *orders,
        ("per_currency", f"""
        SELECT customer_id, currency, sum(net_minor) / {minor_divisor_sql("currency")} AS total, count(*) AS n,
               min(ordered_at) AS first_at, max(ordered_at) AS last_at
        FROM orders GROUP BY customer_id, currency"""),
        ("money", f"""
        SELECT customer_id, arg_max(currency, total) AS currency, max(total) AS lifetime_value,
               sum(n) AS orders_count, min(first_at) AS first_order_at, max(last_at) AS last_order_at,
               to_json(map(list(currency ORDER BY currency),
                           list({round_sql("total", "currency")} ORDER BY currency)))::VARCHAR
                   AS lifetime_value_by_currency
        FROM per_currency GROUP BY customer_id"""),
        # Stripe cancels a deleted customer's subscriptions
        ("subs", f"""
        SELECT sm.customer_id, lower(s.currency) AS currency, s.mrr_minor, s.created,
               CASE WHEN sm.deleted AND coalesce(s.status, '') NOT IN ({ended}) THEN 'canceled'
                    ELSE s.status END AS status
        FROM stripe_subscriptions s JOIN stripe_map sm ON sm.stripe_customer_id = s.customer_id"""),
        ("subs_per_currency", f"""
        SELECT customer_id, currency, sum(mrr_minor) / {minor_divisor_sql("currency")} AS mrr
        FROM subs WHERE status IN ({active}) AND currency IS NOT NULL GROUP BY customer_id, currency"""),
        # a live subscription's status if there is one, else the newest subscription's
        ("subscriptions", f"""
        SELECT customer_id, arg_max(status, struct_pack(live := status IN ({active}), created := created))
                   AS subscription_status
        FROM subs GROUP BY customer_id"""),
        ("mrr_summary", f"""
        SELECT customer_id, arg_max(currency, mrr) AS top_currency,
               to_json(map(list(currency ORDER BY currency),
                           list({round_sql("mrr", "currency")} ORDER BY currency)))::VARCHAR
                   AS mrr_by_currency
        FROM subs_per_currency GROUP BY customer_id"""),
    ]
    final = """
    SELECT a.customer_id, es.email, ps.phone, ns.names.f AS first_name, ns.names.l AS last_name, cs.country,
           a.first_seen_at, a.last_seen_at, a.first_signup_at,
           coalesce(mo.lifetime_value, 0.0)::DOUBLE AS lifetime_value,
           coalesce(mo.currency, mr.top_currency) AS currency,
           coalesce(mo.orders_count, 0)::BIGINT AS orders_count, mo.first_order_at, mo.last_order_at,
           mo.lifetime_value_by_currency,
           s.subscription_status, coalesce(sc.mrr, 0.0)::DOUBLE AS mrr,
           mr.mrr_by_currency,
           a.nps_latest::INTEGER AS nps_latest, a.surveys_count::BIGINT AS surveys_count,
           a.forms_count::BIGINT AS forms_count, a.acquisition_source
    FROM record_times a
    LEFT JOIN email_survivor es USING (customer_id) LEFT JOIN phone_survivor ps USING (customer_id)
    LEFT JOIN country_survivor cs USING (customer_id) LEFT JOIN names_survivor ns USING (customer_id)
    LEFT JOIN money mo USING (customer_id)
    LEFT JOIN subscriptions s USING (customer_id)
    LEFT JOIN mrr_summary mr USING (customer_id)
    LEFT JOIN subs_per_currency sc
           ON sc.customer_id = a.customer_id AND sc.currency = coalesce(mo.currency, mr.top_currency)
    """
    return steps, final


def profile_sql(base: str, consent_wide_sql: str, purposes: tuple[str, ...],
                rates: Mapping[str, float] | None = None, reporting: str = "USD",
                traits: CompiledTraits | None = None) -> str:  # fmt: skip
    """SELECT of one row per customer of `base` (a table or parenthesized query of `base_steps`'
    shape) with CONTRACT columns and computed traits: `consent_wide_sql` is a query of
    `wide_consent_sql`'s shape; `rates`: lower-case currency -> units of `reporting` per unit
    (`FxRates.on`; without it only the reporting currency converts); `traits` the event-based
    computed traits (`traits_sql.compile_traits`), one column each after the consent columns; a
    person's newest event also counts for `last_seen_at`."""
    traits = traits or CompiledTraits(
        f"SELECT NULL::VARCHAR AS customer_id, NULL::TIMESTAMPTZ AS {LAST_EVENT}", ""
    )
    rates_sql = fx.rates_sql(rates if rates is not None else {reporting.lower(): 1.0})
    computed = {
        "last_seen_at": f"greatest(b.last_seen_at, tr.{LAST_EVENT})",
        # a person without orders has no totals: 0.0, where a missing rate gives NULL
        "lifetime_value_reporting": "(CASE WHEN b.lifetime_value_by_currency IS NULL THEN 0.0 ELSE rp.value END)::DOUBLE",
    }
    columns = catalog.table("customer_profiles").columns
    base_columns = columns[: columns.index("acquisition_source") + 1]
    select = ",\n           ".join(f"{computed[c]} AS {c}" if c in computed else f"b.{c}" for c in base_columns)
    consent_cols = ",\n".join(f"coalesce(cw.consent_{p}, false) AS consent_{p}" for p in purposes)
    return f"""
    SELECT {select},
           {consent_cols}{traits.columns}
    FROM {base} AS b
    LEFT JOIN (
        -- every currency's total converted, or none: a partial sum would be a wrong number
        SELECT b.customer_id, CASE WHEN count(fx.rate) = count(*)
                                   THEN round(sum(t.value::DOUBLE * fx.rate), {fx.decimals(reporting)}) END AS value
        FROM {base} AS b, json_each(b.lifetime_value_by_currency) AS t
        LEFT JOIN ({rates_sql}) AS fx ON fx.currency = t.key
        GROUP BY b.customer_id
    ) rp USING (customer_id)
    LEFT JOIN ({consent_wide_sql}) cw USING (customer_id)
    LEFT JOIN ({traits.sql}) tr USING (customer_id)
    """


def profiles_sql(consent_wide_sql: str, purposes: tuple[str, ...], default_region: str,
                 records_table: str = "person_records", rates: Mapping[str, float] | None = None,
                 reporting: str = "USD", traits: CompiledTraits | None = None) -> str:  # fmt: skip
    """`base_steps` and `profile_sql` as one query (the steps as CTEs)."""
    steps, final = base_steps(default_region, records_table)
    ctes = ",\n".join(f"{name} AS ({sql}\n    )" for name, sql in [*steps, ("base", final)])
    return f"WITH {ctes}\n{profile_sql('base', consent_wide_sql, purposes, rates, reporting, traits)}"


def materialize(con: duckdb.DuckDBPyConnection, table: str, steps: list[Step], final: str) -> None:
    """Create the temp table `table` from `base_steps`, one step at a time: as one query, DuckDB
    ran the steps' aggregates side by side and spilled under the memory limit (at 10M events,
    4.9 GB written to its temp folder and the query 2.3x slower)."""
    try:
        for name, sql in steps:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {final}")
    finally:
        for name, _sql in steps:
            con.execute(f"DROP TABLE IF EXISTS {name}")
