"""DuckDB SQL of each Stripe staging table: its changed rows, from the fields of the objects that won.

The fields each table reads are declared here (`_Fields`, one per object type); `stripe_sql.WON`
extracts them from each winning event in one parse, and the SQL below reads them from `j`.
"""

from __future__ import annotations

from uds_pipelines.lib import lake


def won(object_type: str) -> str:
    """The winning `latest` events of one object type: the objects whose staged row changes."""
    return f"""(SELECT object_id, event_id, event_created, source_file, j FROM _stripe_won
                WHERE object_type = '{object_type}' AND slot = 'latest')"""


def _ts(expr: str) -> str:
    return f"to_timestamp(TRY_CAST({expr} AS BIGINT))"


class _Fields:
    """The fields the staging SQL reads from one object type's `data.object`, as paths relative to
    the object. WON extracts them all, in one parse of each winning event, into the list `j` of
    JSON values: the winners then hold only those fields, not whole objects (7 GB of objects at
    10M events, most of it spilled to disk and read back once per table). `f(path)` is a field's
    text (as `json_extract_string` gives it), `f.json(path)` its JSON value."""

    def __init__(self, object_type: str) -> None:
        self.object_type = object_type
        self.paths: list[str] = []
        FIELDS_BY_TYPE[object_type] = self

    def json(self, path: str) -> str:
        if path not in self.paths:
            self.paths.append(path)
        return f"j[{self.paths.index(path) + 1}]"

    def __call__(self, path: str) -> str:
        return f"({self.json(path)}->>'$')"

    def extract(self, document: str, prefix: str = "$") -> str:
        listed = ", ".join("'" + prefix + p.removeprefix("$") + "'" for p in self.paths)
        return f"json_extract({document}, [{listed}])"


FIELDS_BY_TYPE: dict[str, _Fields] = {}


def field(object_type: str, path: str) -> str:
    """The text of a field the staging SQL reads from the winners of `object_type` (a `_stripe_won` row)."""
    return FIELDS_BY_TYPE[object_type](path)


def _customer_id(f: _Fields) -> str:
    # `customer` is an id, or an expanded customer object when the sender expanded it.
    customer = f.json("$.customer")
    return (
        f"""CASE WHEN json_type({customer}) = 'OBJECT' THEN {customer}->>'$.id' ELSE {customer}->>'$' END"""
    )


def _address(f: _Fields, *paths: str) -> str:
    """`address_line1`, `city`, `postcode` from the first address object at `paths` that has a line
    or a postal code; fields are never mixed from two addresses."""

    def pick(field: str) -> str:
        whens = " ".join(
            f"WHEN coalesce({f(p + '.line1')}, {f(p + '.postal_code')}) IS NOT NULL THEN {f(p + '.' + field)}"
            for p in paths
        )
        return f"CASE {whens} END"

    return ",\n           ".join(
        f"{pick(field)} AS {column}"
        for field, column in (("line1", "address_line1"), ("city", "city"), ("postal_code", "postcode"))
    )


# The first non-blank `metadata` value, in the object's key order, whose key is an external-id field
# name (`lib.ingest.external_ids`; `uds_external_id_keys()` is the folded list, defined by
# `build_stripe_staging`), trimmed.
_EXTERNAL_ID = r"""list_filter(
               list_transform(
                   map_entries(TRY_CAST({metadata} AS MAP(VARCHAR, VARCHAR))),
                   lambda e: CASE WHEN list_contains(uds_external_id_keys(),
                                                     lower(regexp_replace(e.key, '[\s_-]+', '', 'g')))
                                  THEN nullif(regexp_replace(e.value, '^\s+|\s+$', '', 'g'), '') END),
               lambda v: v IS NOT NULL)[1]"""

# Customers whose versions changed. The attributes come from the newest event that is not the
# deletion (a customer only ever seen deleted takes its newest event's); `updated_at` and
# `deleted_at` from the merged versions (`_stripe_versions_next`), the newest and first-deletion
# events of all time. A customer whose winning event left its attributes alone keeps its row's.
_C = _Fields("customer")
CUSTOMERS = f"""
    WITH w AS (
        SELECT object_id AS customer_id,
               any_value(j) FILTER (WHERE slot = 'live') AS live_obj,
               any_value(j) FILTER (WHERE slot = 'latest') AS latest_obj
        FROM _stripe_won WHERE object_type = 'customer' GROUP BY 1
    ),
    picked AS (
        SELECT customer_id,
               CASE WHEN live_obj IS NOT NULL THEN live_obj
                    WHEN NOT EXISTS (SELECT 1 FROM stripe_versions v WHERE v.object_type = 'customer'
                                     AND v.slot = 'live' AND v.object_id = w.customer_id) THEN latest_obj END AS j
        FROM w
    ),
    attributes AS (
        SELECT customer_id,
               {_C("$.email")} AS email,
               {_C("$.name")} AS name,
               {_C("$.phone")} AS phone,
               coalesce({_C("$.address.country")}, {_C("$.shipping.address.country")}) AS country,
               {_ts(_C("$.created"))} AS created,
               {_address(_C, "$.address", "$.shipping.address")},
               {_EXTERNAL_ID.format(metadata=_C.json("$.metadata"))} AS external_id
        FROM picked WHERE j IS NOT NULL
        UNION ALL
        SELECT customer_id, email, name, phone, country, created, address_line1, city, postcode, external_id
        FROM stripe_customers SEMI JOIN (SELECT customer_id FROM picked WHERE j IS NULL) USING (customer_id)
    ),
    times AS (
        SELECT object_id AS customer_id,
               any_value(event_created) FILTER (WHERE slot = 'latest') AS updated_at,
               any_value(event_created) FILTER (WHERE slot = 'deleted') AS deleted_at
        FROM _stripe_versions_next SEMI JOIN w ON w.customer_id = object_id
        WHERE object_type = 'customer' GROUP BY 1
    )
    SELECT a.customer_id, a.email, a.name, a.phone, a.country, a.created,
           t.deleted_at IS NOT NULL AS deleted, t.deleted_at, t.updated_at,
           a.address_line1, a.city, a.postcode, a.external_id
    FROM attributes a JOIN times t USING (customer_id)
"""

_CH = _Fields("charge")
CHARGES = f"""
    SELECT object_id AS charge_id,
           {_customer_id(_CH)} AS customer_id,
           {_CH("$.invoice")} AS invoice_id,
           TRY_CAST({_CH("$.amount")} AS BIGINT) AS amount,
           TRY_CAST({_CH("$.amount_refunded")} AS BIGINT) AS amount_refunded,
           lower({_CH("$.currency")}) AS currency,
           {_CH("$.status")} AS status,
           TRY_CAST({_CH("$.paid")} AS BOOLEAN) AS paid,
           TRY_CAST({_CH("$.refunded")} AS BOOLEAN) AS refunded,
           {_ts(_CH("$.created"))} AS created
    FROM {won("charge")}
"""

# Refunds arrive as their own objects (refund.*, charge.refund.updated) and embedded in charges
# (charge.refunded carries data.object.refunds.data[]); the newest event wins per refund id
# (`CANDIDATES`).
_RE = _Fields("refund")
REFUNDS = f"""
    SELECT object_id AS refund_id,
           {_RE("$.charge")} AS charge_id,
           TRY_CAST({_RE("$.amount")} AS BIGINT) AS amount,
           lower({_RE("$.currency")}) AS currency,
           {_RE("$.status")} AS status,
           {_ts(_RE("$.created"))} AS created
    FROM {won("refund")}
"""

_IN = _Fields("invoice")
INVOICES = f"""
    SELECT object_id AS invoice_id,
           {_customer_id(_IN)} AS customer_id,
           coalesce({_IN("$.subscription")}, {_IN("$.parent.subscription_details.subscription")}) AS subscription_id,
           -- newer API versions moved the charge into invoice payments
           coalesce({_IN("$.charge")}, {_IN("$.payments.data[0].payment.charge")}) AS charge_id,
           TRY_CAST({_IN("$.amount_paid")} AS BIGINT) AS amount_paid,
           lower({_IN("$.currency")}) AS currency,
           {_IN("$.status")} AS status,
           {_ts(_IN("$.status_transitions.paid_at"))} AS paid_at,
           {_ts(_IN("$.created"))} AS created
    FROM {won("invoice")}
"""

# Monthly factor per billing interval; interval_count divides (e.g. every 3 months = / 3).
_MONTHLY = "CASE interval WHEN 'month' THEN 1.0 WHEN 'year' THEN 1.0 / 12 WHEN 'week' THEN 52.0 / 12 WHEN 'day' THEN 365.0 / 12 END"

_SU = _Fields("subscription")
# a subscription's items (a list) are read item by item, each in one parse
_ITEM_PATHS = [
    "$.price.id", "$.plan.id", "$.price.unit_amount", "$.plan.amount", "$.quantity",
    "$.price.recurring.interval", "$.plan.interval", "$.price.recurring.interval_count", "$.plan.interval_count",
]  # fmt: skip


def _item(path: str) -> str:
    return f"i[{_ITEM_PATHS.index(path) + 1}]"


SUBSCRIPTIONS = f"""
    WITH subs AS {won("subscription")},
    items AS (
        SELECT object_id, unnest(json_extract({_SU.json("$.items.data")}, '$[*]')) AS item FROM subs
    ),
    item_values AS (
        SELECT object_id,
               coalesce({_item("$.price.id")}, {_item("$.plan.id")}) AS price_id,
               coalesce(TRY_CAST({_item("$.price.unit_amount")} AS DOUBLE),
                        TRY_CAST({_item("$.plan.amount")} AS DOUBLE)) AS unit_amount,
               coalesce(TRY_CAST({_item("$.quantity")} AS DOUBLE), 1) AS quantity,
               coalesce({_item("$.price.recurring.interval")}, {_item("$.plan.interval")}) AS interval,
               greatest(coalesce(
                   TRY_CAST({_item("$.price.recurring.interval_count")} AS DOUBLE),
                   TRY_CAST({_item("$.plan.interval_count")} AS DOUBLE), 1), 1) AS interval_count
        FROM (SELECT *, json_extract_string(item, [{lake.sql_literal_list(_ITEM_PATHS)}]) AS i FROM items)
    ),
    mrr AS (
        SELECT object_id, round(sum(unit_amount * quantity * ({_MONTHLY}) / interval_count))::BIGINT AS mrr_minor,
               -- the prices subscribed to, sorted: what retention is modelled per (predictions)
               string_agg(DISTINCT price_id, '+' ORDER BY price_id) AS plan
        FROM item_values GROUP BY object_id
    )
    SELECT subs.object_id AS subscription_id,
           {_customer_id(_SU)} AS customer_id,
           {_SU("$.status")} AS status,
           lower({_SU("$.currency")}) AS currency,
           coalesce(mrr.mrr_minor, 0) AS mrr_minor,
           {_ts(_SU("$.created"))} AS created,
           {_ts(_SU("$.canceled_at"))} AS canceled_at,
           mrr.plan
    FROM subs LEFT JOIN mrr ON mrr.object_id = subs.object_id
"""

_CS = _Fields("checkout.session")
CHECKOUT_SESSIONS = f"""
    SELECT object_id AS session_id,
           {_customer_id(_CS)} AS customer_id,
           coalesce({_CS("$.customer_details.email")}, {_CS("$.customer_email")}) AS customer_email,
           {_CS("$.consent.promotions")} AS promotions_consent,
           coalesce({_ts(_CS("$.created"))}, event_created) AS created,
           source_file,
           -- the billing address the customer typed at checkout
           {_address(_CS, "$.customer_details.address")},
           {_CS("$.customer_details.address.country")} AS country
    FROM {won("checkout.session")}
"""

# Consent statements (the `stripe_consents` columns) of the changed checkout sessions that recorded
# `consent.promotions`, read from the `stripe_checkout_sessions` table merged just before; they
# replace every statement those sessions gave before.
CONSENTS = f"""
    WITH s AS (
        SELECT * FROM stripe_checkout_sessions SEMI JOIN {won("checkout.session")} w ON w.object_id = session_id
        WHERE promotions_consent IN ('opt_in', 'opt_out')
    )
    SELECT 'email' AS identifier_type, customer_email AS identifier, 'email_marketing' AS purpose,
           promotions_consent = 'opt_in' AS granted, created AS captured_at, 'stripe' AS source,
           session_id AS source_record, source_file
    FROM s WHERE customer_email IS NOT NULL
    UNION ALL
    SELECT 'stripe_customer', customer_id, 'email_marketing', promotions_consent = 'opt_in', created,
           'stripe', session_id, source_file
    FROM s WHERE customer_id IS NOT NULL
"""
