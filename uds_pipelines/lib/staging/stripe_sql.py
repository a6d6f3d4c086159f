"""DuckDB SQL for the Stripe staging tables, over the `landed_stripe` view of the landed events."""

from __future__ import annotations

# One row per event id; the first landing wins (all copies of an event id carry the same event).
EVENTS = """
    SELECT event_id, type, created, livemode, api_version, object_type, object_id, customer_ref,
           source_file, position, landed_at
    FROM landed_stripe
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY landed_at, source_file, position) = 1
"""


def latest(object_type: str, extra_filter: str = "") -> str:
    """Events of one object type reduced to the newest per object: by event `created`, ties by
    event id; arrival order plays no part."""
    return f"""
        SELECT event_id, type, created AS event_created, object_id, source_file,
               payload->'$.data.object' AS obj
        FROM landed_stripe
        WHERE object_type = '{object_type}' AND object_id IS NOT NULL {extra_filter}
        QUALIFY row_number() OVER (PARTITION BY object_id ORDER BY created DESC, event_id DESC) = 1
    """


def _ts(expr: str) -> str:
    return f"to_timestamp(TRY_CAST({expr} AS BIGINT))"


def _customer_id(obj: str) -> str:
    # `customer` is an id, or an expanded customer object when the sender expanded it.
    return f"""CASE WHEN json_type({obj}, '$.customer') = 'OBJECT'
                    THEN json_extract_string({obj}, '$.customer.id')
                    ELSE json_extract_string({obj}, '$.customer') END"""


def _address(obj: str, *paths: str) -> str:
    """`address_line1`, `city`, `postcode` from the first address object at `paths` that has a line
    or a postal code; fields are never mixed from two addresses."""
    picked = (
        "CASE "
        + " ".join(
            f"WHEN coalesce(json_extract_string({obj}, '{p}.line1'), json_extract_string({obj}, '{p}.postal_code'))"
            f" IS NOT NULL THEN json_extract({obj}, '{p}')"
            for p in paths
        )
        + " END"
    )
    return ",\n           ".join(
        f"json_extract_string({picked}, '$.{field}') AS {column}"
        for field, column in (("line1", "address_line1"), ("city", "city"), ("postal_code", "postcode"))
    )


# The first non-blank `metadata` value, in the object's key order, whose key is an external-id field
# name (`lib.ingest.external_ids`; `uds_external_id_keys()` is the folded list, defined by
# `build_stripe_staging`), trimmed.
EXTERNAL_ID = r"""list_filter(
               list_transform(
                   map_entries(TRY_CAST(json_extract(obj, '$.metadata') AS MAP(VARCHAR, VARCHAR))),
                   lambda e: CASE WHEN list_contains(uds_external_id_keys(),
                                                     lower(regexp_replace(e.key, '[\s_-]+', '', 'g')))
                                  THEN nullif(regexp_replace(e.value, '^\s+|\s+$', '', 'g'), '') END),
               lambda v: v IS NOT NULL)[1]"""

CUSTOMERS = f"""
    WITH deletions AS (
        SELECT object_id, min(created) AS deleted_at
        FROM landed_stripe
        WHERE object_type = 'customer'
          AND (type = 'customer.deleted' OR json_extract_string(payload, '$.data.object.deleted') = 'true')
        GROUP BY object_id
    ),
    state AS ({latest("customer", "AND type <> 'customer.deleted'")}),
    stub AS ({latest("customer")}),
    s AS (
        SELECT coalesce(state.object_id, stub.object_id) AS customer_id,
               coalesce(state.obj, stub.obj) AS obj,
               greatest(state.event_created, stub.event_created) AS updated_at
        FROM state FULL OUTER JOIN stub ON state.object_id = stub.object_id
    )
    SELECT s.customer_id,
           json_extract_string(obj, '$.email') AS email,
           json_extract_string(obj, '$.name') AS name,
           json_extract_string(obj, '$.phone') AS phone,
           coalesce(json_extract_string(obj, '$.address.country'),
                    json_extract_string(obj, '$.shipping.address.country')) AS country,
           {_ts("json_extract_string(obj, '$.created')")} AS created,
           d.deleted_at IS NOT NULL AS deleted,
           d.deleted_at,
           s.updated_at,
           {_address("obj", "$.address", "$.shipping.address")},
           {EXTERNAL_ID} AS external_id
    FROM s LEFT JOIN deletions d ON d.object_id = s.customer_id
"""

CHARGES = f"""
    SELECT object_id AS charge_id,
           {_customer_id("obj")} AS customer_id,
           json_extract_string(obj, '$.invoice') AS invoice_id,
           TRY_CAST(json_extract_string(obj, '$.amount') AS BIGINT) AS amount,
           TRY_CAST(json_extract_string(obj, '$.amount_refunded') AS BIGINT) AS amount_refunded,
           lower(json_extract_string(obj, '$.currency')) AS currency,
           json_extract_string(obj, '$.status') AS status,
           TRY_CAST(json_extract_string(obj, '$.paid') AS BOOLEAN) AS paid,
           TRY_CAST(json_extract_string(obj, '$.refunded') AS BOOLEAN) AS refunded,
           {_ts("json_extract_string(obj, '$.created')")} AS created
    FROM ({latest("charge")})
"""

# Refunds arrive as their own objects (refund.*, charge.refund.updated) and embedded in charges
# (charge.refunded carries data.object.refunds.data[]); the newest event wins per refund id.
REFUNDS = f"""
    WITH candidates AS (
        SELECT object_id AS refund_id, payload->'$.data.object' AS r, created AS event_created, event_id
        FROM landed_stripe WHERE object_type = 'refund' AND object_id IS NOT NULL
        UNION ALL
        SELECT json_extract_string(r, '$.id') AS refund_id, r, event_created, event_id
        FROM (
            SELECT unnest(json_extract(payload, '$.data.object.refunds.data[*]')) AS r,
                   created AS event_created, event_id
            FROM landed_stripe
            WHERE object_type = 'charge' AND json_type(payload, '$.data.object.refunds.data') = 'ARRAY'
        )
    )
    SELECT refund_id,
           json_extract_string(r, '$.charge') AS charge_id,
           TRY_CAST(json_extract_string(r, '$.amount') AS BIGINT) AS amount,
           lower(json_extract_string(r, '$.currency')) AS currency,
           json_extract_string(r, '$.status') AS status,
           {_ts("json_extract_string(r, '$.created')")} AS created
    FROM candidates
    WHERE refund_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY refund_id ORDER BY event_created DESC, event_id DESC) = 1
"""

INVOICES = f"""
    SELECT object_id AS invoice_id,
           {_customer_id("obj")} AS customer_id,
           coalesce(json_extract_string(obj, '$.subscription'),
                    json_extract_string(obj, '$.parent.subscription_details.subscription')) AS subscription_id,
           -- newer API versions moved the charge into invoice payments
           coalesce(json_extract_string(obj, '$.charge'),
                    json_extract_string(obj, '$.payments.data[0].payment.charge')) AS charge_id,
           TRY_CAST(json_extract_string(obj, '$.amount_paid') AS BIGINT) AS amount_paid,
           lower(json_extract_string(obj, '$.currency')) AS currency,
           json_extract_string(obj, '$.status') AS status,
           {_ts("json_extract_string(obj, '$.status_transitions.paid_at')")} AS paid_at,
           {_ts("json_extract_string(obj, '$.created')")} AS created
    FROM ({latest("invoice")})
"""

# Monthly factor per billing interval; interval_count divides (e.g. every 3 months = / 3).
_MONTHLY = "CASE interval WHEN 'month' THEN 1.0 WHEN 'year' THEN 1.0 / 12 WHEN 'week' THEN 52.0 / 12 WHEN 'day' THEN 365.0 / 12 END"

SUBSCRIPTIONS = f"""
    WITH subs AS ({latest("subscription")}),
    items AS (
        SELECT object_id, unnest(json_extract(obj, '$.items.data[*]')) AS item FROM subs
    ),
    item_values AS (
        SELECT object_id,
               coalesce(TRY_CAST(json_extract_string(item, '$.price.unit_amount') AS DOUBLE),
                        TRY_CAST(json_extract_string(item, '$.plan.amount') AS DOUBLE)) AS unit_amount,
               coalesce(TRY_CAST(json_extract_string(item, '$.quantity') AS DOUBLE), 1) AS quantity,
               coalesce(json_extract_string(item, '$.price.recurring.interval'),
                        json_extract_string(item, '$.plan.interval')) AS interval,
               greatest(coalesce(
                   TRY_CAST(json_extract_string(item, '$.price.recurring.interval_count') AS DOUBLE),
                   TRY_CAST(json_extract_string(item, '$.plan.interval_count') AS DOUBLE), 1), 1) AS interval_count
        FROM items
    ),
    mrr AS (
        SELECT object_id, round(sum(unit_amount * quantity * ({_MONTHLY}) / interval_count))::BIGINT AS mrr_minor
        FROM item_values GROUP BY object_id
    )
    SELECT subs.object_id AS subscription_id,
           {_customer_id("obj")} AS customer_id,
           json_extract_string(obj, '$.status') AS status,
           lower(json_extract_string(obj, '$.currency')) AS currency,
           coalesce(mrr.mrr_minor, 0) AS mrr_minor,
           {_ts("json_extract_string(obj, '$.created')")} AS created,
           {_ts("json_extract_string(obj, '$.canceled_at')")} AS canceled_at
    FROM subs LEFT JOIN mrr ON mrr.object_id = subs.object_id
"""

CHECKOUT_SESSIONS = f"""
    SELECT object_id AS session_id,
           {_customer_id("obj")} AS customer_id,
           coalesce(json_extract_string(obj, '$.customer_details.email'),
                    json_extract_string(obj, '$.customer_email')) AS customer_email,
           json_extract_string(obj, '$.consent.promotions') AS promotions_consent,
           coalesce({_ts("json_extract_string(obj, '$.created')")}, event_created) AS created,
           source_file,
           -- the billing address the customer typed at checkout
           {_address("obj", "$.customer_details.address")},
           json_extract_string(obj, '$.customer_details.address.country') AS country
    FROM ({latest("checkout.session")})
"""

# Consent statements (the `stripe_consents` columns) from checkout sessions that recorded
# `consent.promotions`, read from the `stripe_checkout_sessions` table written just before.
CONSENTS = """
    WITH s AS (SELECT * FROM stripe_checkout_sessions WHERE promotions_consent IN ('opt_in', 'opt_out'))
    SELECT 'email' AS identifier_type, customer_email AS identifier, 'email_marketing' AS purpose,
           promotions_consent = 'opt_in' AS granted, created AS captured_at, 'stripe' AS source,
           session_id AS source_record, source_file
    FROM s WHERE customer_email IS NOT NULL
    UNION ALL
    SELECT 'stripe_customer', customer_id, 'email_marketing', promotions_consent = 'opt_in', created,
           'stripe', session_id, source_file
    FROM s WHERE customer_id IS NOT NULL
"""
