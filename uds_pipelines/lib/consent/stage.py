"""The consent stage as a whole operation over the lake (what the asset runs): the ledger of
every statement, then effective consent per person and purpose; where the statements come from
and how their identifiers meet the identity graph.

It reads the identity map (a statement's identifier meets a person there) and writes what
profiles and audiences read, so it sits between identity and profiles in the import layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from uds_pipelines.lib import catalog, connection, lake
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.consent.effective import EffectiveConsent, effective_consent
from uds_pipelines.lib.consent.ledger import ConsentLedger, build_consent_ledger, write_ledger
from uds_pipelines.lib.ingest.results import CONSENT_COLUMNS

LEDGER = catalog.TABLES["consent_ledger"].path
EFFECTIVE = catalog.TABLES["effective_consent"].path

# Ledger identifiers are raw as given; they are keyed the way identity keys identifiers.
KEY_EXPRESSIONS = {
    "email": "uds_email_key(identifier)",
    "phone": "uds_phone_e164(identifier, NULL)",
    "stripe_customer": "trim(identifier)",
    "customer_id": "trim(identifier)",
}

_CONSENT_TYPES = {c: "VARCHAR" for c in CONSENT_COLUMNS} | {
    "granted": "BOOLEAN",
    "captured_at": "TIMESTAMPTZ",
}


def statement_sqls(lake_dir: Path) -> list[str]:
    return [
        lake.read_table_sql(lake_dir / lake.LANDED_CONSENT, _CONSENT_TYPES),
        lake.read_table_sql(catalog.path(lake_dir, "stripe_consents"), _CONSENT_TYPES),
    ]


def identifier_customers_sql(lake_dir: Path) -> str:
    """(identifier_type, identifier_key, customer_id) for every identifier held by exactly one person."""
    ids = lake_dir / lake.IDENTIFIERS
    id_map = lake_dir / lake.IDENTITY_MAP
    return f"""(
        SELECT i.id_type AS identifier_type, i.id_value AS identifier_key, any_value(m.customer_id) AS customer_id
        FROM read_parquet('{ids}') i JOIN read_parquet('{id_map}') m USING (source, record_id)
        WHERE i.id_type IN ('email', 'phone', 'stripe_customer')
        GROUP BY 1, 2
        -- an identifier several people hold (a shared or junk address the graph refused to
        -- follow) speaks for none of them: its statements decide nobody's consent
        HAVING count(DISTINCT m.customer_id) = 1
        UNION ALL
        SELECT DISTINCT 'customer_id', customer_id, customer_id FROM read_parquet('{id_map}')
    )"""


@dataclass
class ConsentStage:
    ledger: ConsentLedger
    effective: EffectiveConsent


def build_consent(settings: Settings) -> ConsentStage:
    """Write the consent ledger and effective consent per person and purpose."""
    lake_dir = settings.lake_dir
    con = connection.for_settings(settings)
    try:
        ledger = build_consent_ledger(con, statement_sqls(lake_dir), settings.purposes)
        write_ledger(con, ledger, lake_dir / LEDGER)
        effective = effective_consent(
            con, ledger, identifier_customers_sql(lake_dir), settings.purposes, KEY_EXPRESSIONS
        )
        lake.copy_query_to_parquet(con, f"SELECT * FROM {effective.table}", lake_dir / EFFECTIVE)
    finally:
        con.close()
    return ConsentStage(ledger, effective)
