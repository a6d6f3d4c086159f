"""SQL for the person-level records every source contributes, keyed by (source, record_id).

Identity resolution reads their identifiers; profiles read their attributes. The SQL lives in
identity, the first stage that needs it, so profiles (downstream) import it and never the other
way round. The DuckDB functions `uds_email_key`, `uds_email_norm`, `uds_phone_e164`,
`uds_name_key`, `uds_name_first`, `uds_name_last`, `uds_country`, `uds_birth_date`,
`uds_address_key`, `uds_place_key` and `uds_postcode_key` come from
`lib.normalize.register_duckdb_udfs` and must be registered on the connection, and the tables are
read by name, as the catalog views (`lib.lake_views`) `lib.connection.connect(lake_dir)` registers.
"""

from __future__ import annotations

from uds_pipelines.lib.identity.event_sources import event_user_records_sql
from uds_pipelines.lib.normalize.phone_table import phone_rows_sql

# The catalog tables (views on the stage connection) the person records are built from.
SOURCE_TABLES = (
    "stripe_customers",
    "stripe_checkout_sessions",
    "landed_forms",
    "landed_survey_responses",
    "events",
)


# The raw columns a record is built from; a record whose hash of them is unchanged is not
# normalized again (`person_records.source_hash`).
_HASHED = (
    "observed_at, email, phone, full_name, first_name, last_name, country, date_of_birth, address_line1, "
    "city, postcode, deleted, created_at, external_id, nps, utm_source"
)


def candidate_records_sql(
    forms: str = "landed_forms", surveys: str = "landed_survey_responses", events: str = "events"
) -> str:
    """Person records before name splitting: every Stripe customer (the `stripe_customers` and
    `stripe_checkout_sessions` views, staged state) and the form and survey rows of the relations
    `forms` and `surveys` (default the whole landed tables; identity inputs pass the batches not
    merged yet), and every userId of the relation `events` (`event_sources`), one row per
    (source, record_id).

    Columns: those of `person_records`, with a Stripe customer's whole name in `full_name` (first
    and last names are split from it by `finish_records_sql`, for the records that changed only)
    and `source_hash`, the hash of the raw columns. A form or survey record sent twice keeps its
    newest version (`submitted_at`, then the greater hash, so the choice never depends on order).
    """
    # A deleted Stripe customer keeps the email a checkout saw, so its money stays with the person.
    # A customer object without an address (or country) takes the billing address of its newest
    # checkout that has one, whole: line, city, postcode and country always come from one address.
    return f"""
        WITH raw AS (
            SELECT 'stripe' AS source, c.customer_id AS record_id, 1 AS priority,
                   coalesce(c.updated_at, c.created) AS observed_at,
                   coalesce(c.email, k.customer_email) AS email, c.phone,
                   c.name AS full_name, NULL::VARCHAR AS first_name, NULL::VARCHAR AS last_name,
                   coalesce(c.country, k.address.country, k.country) AS country, NULL::VARCHAR AS date_of_birth,
                   CASE WHEN own_address THEN c.address_line1 ELSE k.address.line1 END AS address_line1,
                   CASE WHEN own_address THEN c.city ELSE k.address.city END AS city,
                   CASE WHEN own_address THEN c.postcode ELSE k.address.postcode END AS postcode,
                   coalesce(c.deleted, false) AS deleted, coalesce(c.created, c.updated_at) AS created_at,
                   c.external_id, NULL::BIGINT AS nps, NULL::VARCHAR AS utm_source
            FROM (
                SELECT *, coalesce(address_line1, postcode) IS NOT NULL AS own_address FROM stripe_customers
            ) c
            LEFT JOIN (
                SELECT customer_id,
                       arg_max(customer_email, created) FILTER (WHERE customer_email IS NOT NULL) AS customer_email,
                       arg_max(struct_pack(line1 := address_line1, city := city, postcode := postcode,
                                          country := country), created)
                           FILTER (WHERE coalesce(address_line1, postcode) IS NOT NULL) AS address,
                       arg_max(country, created) FILTER (WHERE country IS NOT NULL) AS country
                FROM stripe_checkout_sessions WHERE customer_id IS NOT NULL GROUP BY 1
            ) k USING (customer_id)
            WHERE c.customer_id IS NOT NULL
            UNION ALL
            SELECT 'form', submission_id, 2, submitted_at, email, phone, NULL, first_name, last_name, country,
                   date_of_birth, address_line1, city, postcode, false, submitted_at, external_id, NULL,
                   utm_source
            FROM {forms} WHERE submission_id IS NOT NULL
            UNION ALL
            SELECT 'survey', response_id, 3, submitted_at, respondent_email, phone, NULL, first_name, last_name,
                   country, NULL, NULL, NULL, NULL, false, submitted_at, external_id, nps, NULL
            FROM {surveys} WHERE response_id IS NOT NULL
            UNION ALL
            SELECT * FROM ({event_user_records_sql(events)})
        ),
        hashed AS (SELECT *, md5(to_json(struct_pack({_HASHED}))) AS source_hash FROM raw)
        SELECT * FROM hashed
        QUALIFY row_number() OVER (
            PARTITION BY source, record_id ORDER BY observed_at DESC NULLS LAST, source_hash DESC) = 1
    """


def finish_records_sql(candidates: str, default_region: str = "US", phones: str | None = None) -> str:
    """`person_records` rows from candidate records (`candidate_records_sql`): a Stripe name split
    into first and last (`split_full_name`: 'Doe, Jane'; 'Ludwig van Beethoven'), and so is an
    identify call's `name` trait when it sent no first and last name; then the display forms of
    email, phone (E.164, in the record's country or `default_region`), country and names, computed
    here once per record rather than by every profiles run. `phones` names a table of the
    candidates' normalized phones (`lib.normalize.phone_table`); without it they are computed here."""
    region = default_region.replace("'", "")
    return f"""
        WITH c AS (
            SELECT source, record_id, priority, observed_at, email, phone,
                   CASE WHEN source = 'stripe' THEN uds_name_first(full_name)
                        WHEN source = 'events' AND first_name IS NULL AND last_name IS NULL
                        THEN uds_name_first(full_name) ELSE first_name END AS first_name,
                   CASE WHEN source = 'stripe' THEN uds_name_last(full_name)
                        WHEN source = 'events' AND first_name IS NULL AND last_name IS NULL
                        THEN uds_name_last(full_name) ELSE last_name END AS last_name,
                   country, date_of_birth, address_line1, city, postcode, deleted, created_at, external_id,
                   nps, utm_source, source_hash, uds_country(country) AS country_code
            FROM {candidates}
        ),
        phones AS ({phone_rows_sql(phones, f"SELECT phone, coalesce(country_code, '{region}') AS region FROM c")})
        SELECT c.* EXCLUDE (country_code), uds_email_norm(c.email) AS email_n, p.e164 AS phone_n,
               c.country_code AS country_n,
               uds_name_norm(c.first_name) AS first_name_n, uds_name_norm(c.last_name) AS last_name_n,
               true AS normalized
        FROM c LEFT JOIN phones p ON p.phone = c.phone AND p.region = coalesce(c.country_code, '{region}')
    """


def person_records_sql(default_region: str = "US") -> str:
    """One row per source record with its raw personal attributes, source priority and time: the
    `person_records` table built from everything at once (identity inputs merge batch by batch).

    Columns: source, record_id, priority (lower wins in survivorship), observed_at (the record's
    latest state), email, phone, first_name, last_name, country, date_of_birth, address_line1,
    city, postcode, deleted (a deleted Stripe customer), created_at (when the record began: a
    Stripe customer's creation, a submission's time), external_id (an app's own user id: Stripe
    `metadata`, a survey's external reference, a form's hidden field; `lib.ingest.external_ids`),
    nps (a survey's score), utm_source (a form's), source_hash; and the normalized email_n, phone_n,
    country_n, first_name_n, last_name_n, with `normalized` true.
    """
    return finish_records_sql(f"({candidate_records_sql()})", default_region)


def identifiers_sql(
    default_region: str, *, records_table: str = "person_records", phones: str | None = None
) -> str:
    """Normalized identifiers per record of `records_table` (a table or view with the columns of
    `person_records`; default its catalog view): the input of identity resolution. Every record also
    carries its own id, so a record with no shared identifier still becomes a person. `phones`: as
    for `finish_records_sql`.

    `external_id` values are opaque: trimmed, never case-folded; blank ones, and one that is
    the record's own email or phone (raw or normalized), are not identifiers."""
    region = default_region.replace("'", "")
    return f"""
        WITH r0 AS (
            SELECT *, coalesce(uds_country(country), '{region}') AS region,
                   nullif(regexp_replace(CAST(external_id AS VARCHAR), '^\\s+|\\s+$', '', 'g'), '') AS ext
            FROM {records_table}
        ),
        phones AS ({phone_rows_sql(phones, "SELECT phone, region FROM r0")}),
        r1 AS (
            SELECT r0.*, uds_email_key(r0.email) AS email_key, p.e164 AS phone_e164
            FROM r0 LEFT JOIN phones p ON p.phone = r0.phone AND p.region = r0.region
        ),
        r AS (
            SELECT * EXCLUDE (ext),
                   CASE WHEN ext IS NULL
                          OR lower(ext) = lower(trim(email)) OR ext = email_key
                          OR ext = trim(phone) OR ext = phone_e164
                        THEN NULL ELSE ext END AS external_id_value
            FROM r1
        )
        SELECT source, record_id, 'record' AS id_type, source || ':' || record_id AS id_value, observed_at FROM r
        UNION ALL
        SELECT source, record_id, 'stripe_customer', record_id, observed_at FROM r WHERE source = 'stripe'
        UNION ALL
        SELECT source, record_id, 'email', email_key, observed_at FROM r WHERE email_key IS NOT NULL
        UNION ALL
        SELECT source, record_id, 'phone', phone_e164, observed_at FROM r WHERE phone_e164 IS NOT NULL
        UNION ALL
        SELECT source, record_id, 'external_id', external_id_value, observed_at FROM r
        WHERE external_id_value IS NOT NULL
        UNION ALL  -- a userId's own value of the links from its anonymous ids (event_sources)
        SELECT source, record_id, 'event_user', external_id, observed_at FROM r
        WHERE source = 'events' AND starts_with(record_id, 'user:')
    """


# The order each source writes ambiguous numeric dates in (`05/12/1979`): forms use day-first
# (DD/MM/YYYY, as the flat form export does). Sources not listed get unambiguous dates only.
BIRTH_DATE_ORDER = {"form": "dmy"}


def person_attributes_sql(records_table: str = "person_records") -> str:
    """Attributes for probabilistic matching, as match keys: name keys, birth date (a DATE, or NULL
    when unreadable or ambiguous), postcode, city and address line keys (`lib.normalize.address`),
    per record of `records_table` (a table or view with the columns of `person_records`; default
    its catalog view)."""
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
