"""SQL for the person-level records every source contributes, keyed by (source, record_id).

Identity resolution reads their identifiers; profiles read their attributes. The SQL lives in
identity, the first stage that needs it, so profiles (downstream) import it and never the other
way round. The DuckDB functions `uds_email_key`, `uds_email_norm`, `uds_phone_e164`,
`uds_name_key`, `uds_name_first`, `uds_name_last`, `uds_country`, `uds_birth_date`,
`uds_address_key`, `uds_place_key` and `uds_postcode_key` come from
`lib.normalize.register_duckdb_udfs` and must be registered on the connection
(`lib.connection.connect`).
"""

from __future__ import annotations

from pathlib import Path

from uds_pipelines.lib import catalog, lake

CUSTOMER_COLUMNS = {
    "customer_id": "VARCHAR", "email": "VARCHAR", "name": "VARCHAR", "phone": "VARCHAR",
    "country": "VARCHAR", "created": "TIMESTAMPTZ", "deleted": "BOOLEAN", "deleted_at": "TIMESTAMPTZ",
    "updated_at": "TIMESTAMPTZ", "address_line1": "VARCHAR", "city": "VARCHAR", "postcode": "VARCHAR",
    "external_id": "VARCHAR",
}  # fmt: skip
RESPONSE_COLUMNS = {
    "response_id": "VARCHAR", "survey_id": "VARCHAR", "respondent_email": "VARCHAR", "first_name": "VARCHAR",
    "last_name": "VARCHAR", "phone": "VARCHAR", "country": "VARCHAR", "submitted_at": "TIMESTAMPTZ",
    "nps": "BIGINT", "external_id": "VARCHAR",
}  # fmt: skip
FORM_COLUMNS = {
    "submission_id": "VARCHAR", "submitted_at": "TIMESTAMPTZ", "email": "VARCHAR", "phone": "VARCHAR",
    "first_name": "VARCHAR", "last_name": "VARCHAR", "country": "VARCHAR", "date_of_birth": "VARCHAR",
    "address_line1": "VARCHAR", "city": "VARCHAR", "postcode": "VARCHAR", "utm_source": "VARCHAR",
    "external_id": "VARCHAR",
}  # fmt: skip
CHECKOUT_COLUMNS = {
    "session_id": "VARCHAR", "customer_id": "VARCHAR", "customer_email": "VARCHAR", "created": "TIMESTAMPTZ",
    "address_line1": "VARCHAR", "city": "VARCHAR", "postcode": "VARCHAR", "country": "VARCHAR",
}  # fmt: skip


# Columns added after the first release: files written before them read as NULL there.
ADDED_COLUMNS = {"external_id": "VARCHAR"}


def with_added_columns(table_sql: str, columns: dict[str, str] | None = None) -> str:
    """`table_sql` with every column of `columns` (default `ADDED_COLUMNS`) present, NULL where
    the files (landed or staged by an older version) do not have it."""
    typed = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in (columns or ADDED_COLUMNS).items())
    return f"(SELECT {typed} WHERE false UNION ALL BY NAME SELECT * FROM {table_sql})"


def staging_table(lake_dir: Path, name: str, columns: dict[str, str]) -> str:
    return lake.read_table_sql(catalog.path(lake_dir, name), columns)


def person_records_sql(lake_dir: Path) -> str:
    """One row per source record with its raw personal attributes, source priority and time.

    Columns: source, record_id, priority (lower wins in survivorship), observed_at (the record's
    latest state), email, phone, first_name, last_name, country, date_of_birth, address_line1,
    city, postcode, deleted (a deleted Stripe customer), created_at (when the record began: a
    Stripe customer's creation, a submission's time), external_id (an app's own user id: Stripe
    `metadata`, a survey's external reference, a form's hidden field; `lib.ingest.external_ids`).
    """
    customers = with_added_columns(staging_table(lake_dir, "stripe_customers", CUSTOMER_COLUMNS))
    checkout = staging_table(lake_dir, "stripe_checkout_sessions", CHECKOUT_COLUMNS)
    responses = with_added_columns(
        lake.read_table_sql(lake_dir / lake.LANDED_SURVEYS / "responses", RESPONSE_COLUMNS)
    )
    forms = with_added_columns(lake.read_table_sql(lake_dir / lake.LANDED_FORMS, FORM_COLUMNS))
    # A deleted Stripe customer keeps the email a checkout saw, so its money stays with the person.
    # Full names are split by `split_full_name` ('Doe, Jane'; 'Ludwig van Beethoven').
    # A customer object without an address (or country) takes the billing address of its newest
    # checkout that has one, whole: line, city, postcode and country always come from one address.
    return f"""
        SELECT 'stripe' AS source, c.customer_id AS record_id, 1 AS priority,
               coalesce(c.updated_at, c.created) AS observed_at,
               coalesce(c.email, k.customer_email) AS email, c.phone,
               uds_name_first(c.name) AS first_name, uds_name_last(c.name) AS last_name,
               coalesce(c.country, k.address.country, k.country) AS country, NULL::VARCHAR AS date_of_birth,
               CASE WHEN own_address THEN c.address_line1 ELSE k.address.line1 END AS address_line1,
               CASE WHEN own_address THEN c.city ELSE k.address.city END AS city,
               CASE WHEN own_address THEN c.postcode ELSE k.address.postcode END AS postcode,
               coalesce(c.deleted, false) AS deleted, coalesce(c.created, c.updated_at) AS created_at,
               c.external_id
        FROM (
            SELECT *, coalesce(address_line1, postcode) IS NOT NULL AS own_address FROM {customers}
        ) c
        LEFT JOIN (
            SELECT customer_id,
                   arg_max(customer_email, created) FILTER (WHERE customer_email IS NOT NULL) AS customer_email,
                   arg_max(struct_pack(line1 := address_line1, city := city, postcode := postcode,
                                      country := country), created)
                       FILTER (WHERE coalesce(address_line1, postcode) IS NOT NULL) AS address,
                   arg_max(country, created) FILTER (WHERE country IS NOT NULL) AS country
            FROM {checkout} WHERE customer_id IS NOT NULL GROUP BY 1
        ) k USING (customer_id)
        WHERE c.customer_id IS NOT NULL
        UNION ALL
        SELECT 'form', submission_id, 2, submitted_at, email, phone, first_name, last_name, country,
               date_of_birth, address_line1, city, postcode, false, submitted_at, external_id
        FROM {forms} WHERE submission_id IS NOT NULL
        -- a re-sent submission or a cumulative re-export is one record, not two
        QUALIFY row_number() OVER (PARTITION BY submission_id ORDER BY submitted_at DESC NULLS LAST) = 1
        UNION ALL
        SELECT 'survey', response_id, 3, submitted_at, respondent_email, phone, first_name, last_name,
               country, NULL, NULL, NULL, NULL, false, submitted_at, external_id
        FROM {responses} WHERE response_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY response_id ORDER BY submitted_at DESC NULLS LAST) = 1
    """


def identifiers_sql(records_table: str, default_region: str) -> str:
    """Normalized identifiers per record (input of identity resolution). Every record also carries
    its own id, so a record with no shared identifier still becomes a person.

    `external_id` values are opaque: trimmed, never case-folded; blank ones, and one that is
    the record's own email or phone (raw or normalized), are not identifiers."""
    region = default_region.replace("'", "")
    return f"""
        WITH r0 AS (
            SELECT *, coalesce(uds_country(country), '{region}') AS region,
                   nullif(regexp_replace(CAST(external_id AS VARCHAR), '^\\s+|\\s+$', '', 'g'), '') AS ext
            FROM {with_added_columns(records_table)}
        ), r AS (
            SELECT * EXCLUDE (ext),
                   CASE WHEN ext IS NULL
                          OR lower(ext) = lower(trim(email)) OR ext = uds_email_key(email)
                          OR ext = trim(phone) OR ext = uds_phone_e164(phone, region)
                        THEN NULL ELSE ext END AS external_id_value
            FROM r0
        )
        SELECT source, record_id, 'record' AS id_type, source || ':' || record_id AS id_value, observed_at FROM r
        UNION ALL
        SELECT source, record_id, 'stripe_customer', record_id, observed_at FROM r WHERE source = 'stripe'
        UNION ALL
        SELECT source, record_id, 'email', uds_email_key(email), observed_at FROM r
        WHERE uds_email_key(email) IS NOT NULL
        UNION ALL
        SELECT source, record_id, 'phone', uds_phone_e164(phone, region), observed_at FROM r
        WHERE uds_phone_e164(phone, region) IS NOT NULL
        UNION ALL
        SELECT source, record_id, 'external_id', external_id_value, observed_at FROM r
        WHERE external_id_value IS NOT NULL
    """


# The order each source writes ambiguous numeric dates in (`05/12/1979`): forms use day-first
# (DD/MM/YYYY, as the flat form export does). Sources not listed get unambiguous dates only.
BIRTH_DATE_ORDER = {"form": "dmy"}


def person_attributes_sql(records_table: str) -> str:
    """Attributes for probabilistic matching, as match keys: name keys, birth date (a DATE, or NULL
    when unreadable or ambiguous), postcode, city and address line keys (`lib.normalize.address`)."""
    whens = " ".join(f"WHEN '{source}' THEN '{fmt}'" for source, fmt in BIRTH_DATE_ORDER.items())
    order = f"CASE source {whens} END" if whens else "NULL"
    return f"""
        SELECT source, record_id, uds_name_key(first_name) AS first_name_key,
               uds_name_key(last_name) AS last_name_key,
               TRY_CAST(uds_birth_date(date_of_birth::VARCHAR, {order}) AS DATE) AS date_of_birth,
               uds_postcode_key(postcode) AS postcode, uds_place_key(city) AS city,
               uds_address_key(address_line1) AS address_line1
        FROM {records_table}
    """
