"""The consent stage as a whole operation over the lake (what the asset runs): the ledger of
every statement, then effective consent per person and purpose; where the statements come from
and how their identifiers meet the identity graph.

It reads the identity map (a statement's identifier meets a person there) and writes what
profiles and audiences read, so it sits between identity and profiles in the import layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from uds_pipelines.lib import connection, lake_views
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.consent.effective import KEYED, EffectiveConsent, effective_consent
from uds_pipelines.lib.consent.events import SOURCE, event_statements_sql
from uds_pipelines.lib.consent.history import TABLE as HISTORY
from uds_pipelines.lib.consent.history import keep_expiring
from uds_pipelines.lib.consent.ledger import ConsentLedger, build_consent_ledger, write_ledger

# Ledger identifiers are raw as given; they are keyed the way identity keys identifiers.
KEY_EXPRESSIONS = {
    "email": "uds_email_key(identifier)",
    "phone": "uds_phone_e164(identifier, NULL)",
    "stripe_customer": "trim(identifier)",
    "customer_id": "trim(identifier)",
}

# The tables (views) holding consent statements: landed from surveys, forms and privacy
# requests, and taken from Stripe checkout sessions.
STATEMENT_TABLES = ("landed_consent", "stripe_consents")


# Sources whose statements are made by a person record itself (`source_record` is its record id):
# events name theirs `user:<userId>` / `anon:<anonymousId>`, as the identity map does.
RECORD_SOURCES = ("form", "survey", "events")


def record_customers_sql() -> str:
    """(source, record_id, customer_id) of every form and survey record: whoever made a statement."""
    return f"""(
        SELECT source, record_id, customer_id FROM identity_map
        WHERE source IN ({", ".join(f"'{s}'" for s in RECORD_SOURCES)})
    )"""


def identifier_customers_sql(statements: str | None = None) -> str:
    """A parenthesized query over the views `identifiers` and `identity_map`:
    (identifier_type, identifier_key, customer_id) for every identifier held by exactly one person;
    with `statements` (a table with `identifier_type`, `identifier_key`), only for the identifiers
    it names: fewer identifiers to group (at 10M events, 1.3M of 3.5M)."""
    wanted = f"(SELECT DISTINCT identifier_type, identifier_key FROM {statements})" if statements else None
    only_wanted = (
        f"SEMI JOIN {wanted} w ON w.identifier_type = i.id_type AND w.identifier_key = i.id_value" if wanted else ""
    )
    only_wanted_ids = (
        f"WHERE customer_id IN (SELECT identifier_key FROM {wanted} WHERE identifier_type = 'customer_id')"
        if wanted
        else ""
    )
    return f"""(
        SELECT i.id_type AS identifier_type, i.id_value AS identifier_key, min(m.customer_id) AS customer_id
        FROM identifiers i {only_wanted}
        JOIN identity_map m USING (source, record_id)
        WHERE i.id_type IN ('email', 'phone', 'stripe_customer')
        GROUP BY 1, 2
        -- an identifier several people hold (a shared or junk address the graph refused to
        -- follow) speaks for none of them: its statements decide nobody's consent (min = max is
        -- one person, without the distinct count's hash set per identifier)
        HAVING min(m.customer_id) = max(m.customer_id)
        UNION ALL
        SELECT DISTINCT 'customer_id', customer_id, customer_id FROM identity_map {only_wanted_ids}
    )"""


@dataclass
class ConsentStage:
    ledger: ConsentLedger
    effective: EffectiveConsent
    from_events: int = 0  # statements taken from events' consent objects (changes of preference)
    kept_from_expiring_events: int = 0  # of which stored this run, before retention deletes their events


def statement_tables(settings: Settings) -> tuple[str, ...]:
    """The statement tables, and the events' consent changes: those kept from deleted events and
    those of the events still landed (once each: a day is kept before retention deletes it)."""
    from_events = event_statements_sql(settings.tracking_plan().consent_categories)
    kept = f"SELECT * EXCLUDE (message_id) FROM {HISTORY}"
    if not from_events:
        return (*STATEMENT_TABLES, f"({kept})")
    union = f"{kept} UNION ALL SELECT * FROM {from_events}"
    return (*STATEMENT_TABLES, f"(SELECT DISTINCT * FROM ({union}))")


def build_consent(settings: Settings) -> ConsentStage:
    """Write the consent ledger and effective consent per person and purpose."""
    lake_dir = settings.lake_dir
    # the statements' landed tables, and what the graph derived (the map, the identifiers)
    con = connection.for_settings(settings, connection.DERIVED_LAYERS, ("landed_consent", "events"))
    try:
        kept = keep_expiring(con, settings, settings.tracking_plan().consent_categories)
        ledger = build_consent_ledger(con, statement_tables(settings), settings.purposes)
        write_ledger(con, ledger, lake_dir)
        from_events = con.execute(f"SELECT count(*) FROM {ledger.table} WHERE source = '{SOURCE}'").fetchall()[0][0]
        effective = effective_consent(
            con, ledger, identifier_customers_sql(KEYED), settings.purposes, KEY_EXPRESSIONS,
            record_customers=record_customers_sql(),
        )  # fmt: skip
        lake_views.write_query(con, lake_dir, "effective_consent", f"SELECT * FROM {effective.table}")
    finally:
        con.close()
    return ConsentStage(ledger, effective, int(from_events), kept)
