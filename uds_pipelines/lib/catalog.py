"""The lake catalog: one declaration per lake table (path, kind, schema, owner, layer, personal columns).

Paths are relative to the lake (`<UDS_DATA_DIR>/lake`, or `<UDS_LAKE_URL>/lake`). A `file` table is
one Parquet file, replaced atomically on every write; a `folder` table is a folder of batch files
(`*.parquet`), read with a glob, or of partition folders of batch files (`partitioned_by`). Schemas are the Arrow types the writers produce today (pandas-built
tables write `large_string`, DuckDB- and explicitly typed ones `string`); readers see both as VARCHAR.

Each table is its own Dagster asset key, named as the table. `owner` is the Dagster step (op) that
materializes it; `also_written_by` lists the other steps that write to it: the landing steps that all
append to a shared folder (every landing step records its files and quarantines bad records; such
folders are external assets their writers report on), or a step that rewrites a file another owns.
`personal` lists the columns holding personal data in clear or as unkeyed hashes (contact details,
names, addresses, free text, raw payloads); the internal pseudonymous `customer_id` and the keyed
suppression hashes are not listed.

This module sits in the bottom import layer: it imports nothing from the pipeline, so any module may
take its paths from here. `python -m uds_pipelines.lib.catalog --write docs/ARCHITECTURE.md` regenerates
the docs section between the catalog markers.
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

KINDS = ("file", "folder")
LAYERS = ("landed", "quarantine", "staged", "derived", "export", "privacy")

S = pa.string()
L = pa.large_string()  # pandas-built tables
TS = pa.timestamp("us", tz="UTC")
I32 = pa.int32()
I64 = pa.int64()
F64 = pa.float64()
B = pa.bool_()


# the normalized attributes that describe a person, personal wherever a table carries them
PERSON_ATTRIBUTES = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "country",
    "date_of_birth",
    "address_line1",
    "city",
    "postcode",
    "external_id",
)
# person_records' display forms of the above, normalized once when a record is merged
NORMALIZED_ATTRIBUTES = ("email_n", "phone_n", "country_n", "first_name_n", "last_name_n")


@dataclass(frozen=True)
class Table:
    name: str
    path: str
    kind: str
    schema: pa.Schema
    owner: str
    layer: str
    personal: tuple[str, ...]
    description: str
    also_written_by: tuple[str, ...] = field(default=())
    # The one migration mechanism: columns added after files were first written, each with the
    # DuckDB expression an older file reads as (`lake_views` fills it in; files are never rewritten).
    added: tuple[tuple[str, str], ...] = field(default=())
    # Columns whose names depend on configuration (`consent_<purpose>` per UDS_CONSENT_PURPOSES):
    # the schema lists the default set; writers may write another set with this prefix and type.
    variable_prefix: str | None = None
    # Retention: the timestamp column by which a row expires (`landed` tables after
    # UDS_RETENTION_DAYS, `quarantine` after 90 days); None: rows are kept (consent statements are
    # proof; requests and derived tables have their own lifecycle).
    expires_by: str | None = None
    # A folder table laid out in Hive-style partition folders (`<path>/day=2026-12-06/<batch>.parquet`):
    # the partition column's name. It is not stored in the files (the folder names it; DuckDB reads
    # it back with hive_partitioning as a DATE), so the schema does not list it.
    partitioned_by: str | None = None
    # Writers may add columns the schema does not declare, named by configuration (the computed
    # traits of `traits.yaml` on profiles); the declared ones must still all be there, in order.
    open_columns: bool = False
    # A keyed state table (`keyed_parts`): a folder of parts that a merge updates by key (the rows
    # of a key are replaced together), rewriting only the parts that hold a changed key.
    key: tuple[str, ...] = field(default=())
    # Where the table was one file before it became keyed; `lake_views` moves that file into the
    # folder as its oldest part the first time it lists the table.
    formerly: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.schema.names)

    def arrow_type(self, column: str) -> pa.DataType:
        return self.schema.field(column).type

    def empty(self) -> pa.Table:
        return self.schema.empty_table()


_TYPES = {
    "": S,
    "large_string": L,
    "timestamp": TS,
    "int32": I32,
    "int64": I64,
    "double": F64,
    "bool": B,
}


def _schema(columns: str) -> pa.Schema:
    """`"name name:int64 ..."`: whitespace-separated columns, each `name[:type]` (default string)."""
    fields = [item.partition(":") for item in columns.split()]
    return pa.schema([(name, _TYPES[typ]) for name, _sep, typ in fields])


# the match keys a probabilistic review pair shows for both records (identity.probabilistic scores them)
MATCH_REVIEW_KEYS = ("first_name_key", "last_name_key", "date_of_birth", "postcode", "city", "address_line1")

_DECLARED = [
    Table(
        "landed_stripe",
        "landed/stripe",
        "folder",
        _schema(
            "event_id type created:timestamp livemode:bool api_version object_type object_id "
            "customer_ref payload source_file position:int64 landed_at:timestamp"
        ),
        "landed_stripe_events",
        "landed",
        ("payload",),
        "One row per delivered Stripe event (duplicates collapse in staging).",
        expires_by="created",
    ),
    Table(
        "events",
        "events",
        "folder",
        _schema(
            "message_id type event name user_id anonymous_id group_id previous_id timestamp:timestamp "
            "received_at:timestamp sent_at:timestamp original_timestamp:timestamp properties traits "
            "context utm_source utm_medium utm_campaign utm_term utm_content page_url page_path "
            "page_referrer source violations source_file position:int64 landed_at:timestamp"
        ),
        "landed_events",
        "landed",
        ("user_id", "anonymous_id", "previous_id", "properties", "traits", "context", "page_url", "page_referrer"),
        "Behavioural events (Segment/RudderStack track, identify, page, screen, group, alias), one row "
        "per messageId, in day folders of the event's UTC timestamp.",
        expires_by="timestamp",
        partitioned_by="day",
    ),
    Table(
        "landed_survey_responses",
        "landed/surveys/responses",
        "folder",
        _schema(
            "response_id survey_id layout respondent_email first_name last_name phone country "
            "external_id submitted_at:timestamp nps:int64 source_file position:int64"
        ),
        "landed_survey_responses",
        "landed",
        ("respondent_email", "first_name", "last_name", "phone", "country", "external_id"),
        "One row per survey response.",
        added=(("external_id", "NULL"),),  # since the external-id release
        expires_by="submitted_at",
    ),
    Table(
        "landed_survey_answers",
        "landed/surveys/answers",
        "folder",
        _schema("response_id question_id question_text answer"),
        "landed_survey_responses",
        "landed",
        ("answer",),
        "Survey answers, long form: one row per (response, question).",
    ),
    Table(
        "landed_forms",
        "landed/forms",
        "folder",
        _schema(
            "submission_id form_provider form_id submitted_at:timestamp email phone first_name "
            "last_name country date_of_birth address_line1 city postcode external_id utm_source "
            "utm_medium utm_campaign utm_term utm_content fields_json source_file position:int64"
        ),
        "landed_form_submissions",
        "landed",
        (*PERSON_ATTRIBUTES, "fields_json"),
        "One row per form submission.",
        added=(("external_id", "NULL"),),  # since the external-id release
        expires_by="submitted_at",
    ),
    Table(
        "landed_consent",
        "landed/consent",
        "folder",
        _schema(
            "identifier_type identifier purpose granted:bool captured_at:timestamp source "
            "source_record source_file"
        ),
        "landed_survey_responses",
        "landed",
        ("identifier",),
        "Consent statements from surveys, forms and privacy requests.",
        also_written_by=("landed_form_submissions", "landed_privacy_requests"),
    ),
    Table(
        "landed_privacy",
        "landed/privacy",
        "folder",
        _schema(
            "request_id type email phone customer_id received_at:timestamp purpose granted:bool "
            "source_file position:int64"
        ),
        "landed_privacy_requests",
        "landed",
        ("email", "phone"),
        "Data-subject requests (erasure, access, consent).",
    ),
    Table(
        "landed_files",
        "landed/_files",
        "folder",
        _schema(
            "source:large_string file_name:large_string sha256:large_string size_bytes:int64 "
            "records_read:int64 records_landed:int64 records_quarantined:int64 "
            "duplicates_skipped:int64 landed_at:timestamp"
        ),
        "landed_survey_responses",
        "landed",
        (),
        "Ledger of inbox files processed, one file per landed batch.",
        also_written_by=(
            "landed_stripe_events",
            "landed_form_submissions",
            "landed_privacy_requests",
            "landed_events",
        ),
    ),
    Table(
        "quarantine",
        "quarantine",
        "folder",
        _schema(
            "source:large_string source_file:large_string position:int64 reason:large_string "
            "raw:large_string quarantined_at:timestamp"
        ),
        "landed_stripe_events",
        "quarantine",
        ("raw",),
        "Records that could not be landed (or were dropped as suppressed), with the raw text and the reason.",
        also_written_by=(
            "landed_survey_responses",
            "landed_form_submissions",
            "landed_privacy_requests",
            "landed_events",
        ),
        expires_by="quarantined_at",
    ),
    Table(
        "stripe_events",
        # a folder of one batch per merge: new events are appended, never the whole table rewritten
        "staging/stripe_events",
        "folder",
        _schema(
            "event_id type created:timestamp livemode:bool api_version object_type object_id "
            "customer_ref source_file position:int64 landed_at:timestamp"
        ),
        "stripe_staging",
        "staged",
        (),
        "Stripe events, one row per event id (duplicates collapsed).",
    ),
    Table(
        "stripe_customers",
        "staging/stripe_customers",
        "folder",
        _schema(
            "customer_id email name phone country created:timestamp deleted:bool deleted_at:timestamp "
            "updated_at:timestamp address_line1 city postcode external_id"
        ),
        "stripe_staging",
        "staged",
        ("email", "name", "phone", "country", "address_line1", "city", "postcode", "external_id"),
        "Stripe customers at their latest state.",
        added=(("external_id", "NULL"),),  # since the external-id release
        key=("customer_id",),
        formerly="staging/stripe_customers.parquet",
    ),
    Table(
        "stripe_charges",
        "staging/stripe_charges",
        "folder",
        _schema(
            "charge_id customer_id invoice_id amount:int64 amount_refunded:int64 currency status "
            "paid:bool refunded:bool created:timestamp"
        ),
        "stripe_staging",
        "staged",
        (),
        "Stripe charges at their latest state (amounts in minor units).",
        key=("charge_id",),
        formerly="staging/stripe_charges.parquet",
    ),
    Table(
        "stripe_invoices",
        "staging/stripe_invoices",
        "folder",
        _schema(
            "invoice_id customer_id subscription_id charge_id amount_paid:int64 currency status "
            "paid_at:timestamp created:timestamp"
        ),
        "stripe_staging",
        "staged",
        (),
        "Stripe invoices at their latest state.",
        key=("invoice_id",),
        formerly="staging/stripe_invoices.parquet",
    ),
    Table(
        "stripe_refunds",
        "staging/stripe_refunds",
        "folder",
        _schema("refund_id charge_id amount:int64 currency status created:timestamp"),
        "stripe_staging",
        "staged",
        (),
        "Stripe refunds at their latest state.",
        key=("refund_id",),
        formerly="staging/stripe_refunds.parquet",
    ),
    Table(
        "stripe_subscriptions",
        "staging/stripe_subscriptions",
        "folder",
        _schema(
            "subscription_id customer_id status currency mrr_minor:int64 created:timestamp "
            "canceled_at:timestamp plan"
        ),
        "stripe_staging",
        "staged",
        (),
        "Stripe subscriptions at their latest state, with monthly recurring revenue.",
        added=(("plan", "NULL"),),  # since per-plan retention models (issue 19)
        key=("subscription_id",),
        formerly="staging/stripe_subscriptions.parquet",
    ),
    Table(
        "stripe_checkout_sessions",
        "staging/stripe_checkout_sessions",
        "folder",
        _schema(
            "session_id customer_id customer_email promotions_consent created:timestamp source_file "
            "address_line1 city postcode country"
        ),
        "stripe_staging",
        "staged",
        ("customer_email", "address_line1", "city", "postcode", "country"),
        "Completed Stripe checkout sessions (email, address, promotions consent).",
        key=("session_id",),
        formerly="staging/stripe_checkout_sessions.parquet",
    ),
    Table(
        "stripe_consents",
        "staging/stripe_consents",
        "folder",
        _schema(
            "identifier_type identifier purpose granted:bool captured_at:timestamp source "
            "source_record source_file"
        ),
        "stripe_staging",
        "staged",
        ("identifier",),
        "Consent statements taken from Stripe checkout sessions.",
        key=("source_record",),
        formerly="staging/stripe_consents.parquet",
    ),
    Table(
        "stripe_versions",
        "staging/stripe_versions",
        "folder",
        _schema("object_type object_id slot event_id event_created:timestamp"),
        "stripe_staging",
        "staged",
        ("object_id",),
        "The event each staged Stripe object's state comes from, per slot: what an incremental merge compares new events with.",
        key=("object_type", "object_id", "slot"),
        formerly="staging/stripe_versions.parquet",
    ),
    Table(
        "stage_watermarks",
        "state/watermarks",
        "folder",
        _schema("step source_table batch"),
        "stripe_staging",
        "staged",
        (),
        "The landed batch files each step has merged into its durable state (one file per step).",
        also_written_by=("identity_inputs", "consent_ledger", "customer_profiles"),
    ),
    Table(
        "person_records",
        "identity/person_records.parquet",
        "file",
        _schema(
            "source record_id priority:int32 observed_at:timestamp email phone first_name last_name "
            "country date_of_birth address_line1 city postcode deleted:bool created_at:timestamp "
            "external_id nps:int64 utm_source source_hash email_n phone_n country_n first_name_n last_name_n "
            "normalized:bool"
        ),
        "identity_inputs",
        "derived",
        (*PERSON_ATTRIBUTES, *NORMALIZED_ATTRIBUTES),
        "One row per source record that describes a person, with its normalized attributes.",
        added=(
            ("deleted", "false"),
            ("created_at", "NULL"),
            ("external_id", "NULL"),
            # since person records became durable state (identity inputs merge batch by batch)
            ("nps", "NULL"),
            ("utm_source", "NULL"),
            ("source_hash", "NULL"),
            # since the normalized attributes are stored once per record (profiles fall back to
            # normalizing the raw values where these are NULL)
            *((column, "NULL") for column in NORMALIZED_ATTRIBUTES),
            ("normalized", "NULL"),  # since refused values are no longer normalized again
        ),
    ),
    Table(
        "identifiers",
        "identity/identifiers.parquet",
        "file",
        _schema("source record_id id_type id_value observed_at:timestamp"),
        "identity_inputs",
        "derived",
        ("id_value",),
        "Normalized identifiers (email, phone, Stripe customer, external id) per source record.",
    ),
    Table(
        "rejected_identifiers",
        "identity/rejected_identifiers.parquet",
        "file",
        _schema("source record_id id_type reason"),
        "identity_inputs",
        "derived",
        (),
        "Identifiers that failed validation, with the reason (values left out).",
    ),
    Table(
        "identity_map",
        "identity/identity_map.parquet",
        "file",
        _schema("source record_id customer_id origin_customer_id fingerprint:int64 guarded:bool"),
        "identity_map",
        "derived",
        (),
        "Source record -> stable customer id.",
        added=(
            ("origin_customer_id", "NULL"),  # maps written before it: the customer_id is the origin
            # what the record's identifiers were when it was resolved, and whether one of them was
            # refused by a guardrail: what lets the next run re-resolve only what changed (NULL:
            # resolved again)
            ("fingerprint", "NULL"),
            ("guarded", "NULL"),
        ),
    ),
    Table(
        "customer_registry",
        "identity/customer_registry.parquet",
        "file",
        _schema("customer_id created_at:timestamp status merged_into status_changed_at:timestamp"),
        "identity_map",
        "derived",
        (),
        "Every customer id ever issued, with its status (active, merged, erased).",
    ),
    Table(
        "identity_changes",
        "identity/identity_changes.parquet",
        "file",
        _schema("run_id changed_at:timestamp change customer_id other_customer_id records:int64"),
        "identity_map",
        "derived",
        (),
        "Merges, splits and new ids, one row per change per run.",
    ),
    Table(
        "guardrail_report",
        "identity/guardrail_report.parquet",
        "file",
        _schema("rule id_type id_value_masked records_affected:int64 links_cut:int64"),
        "identity_map",
        "derived",
        (),
        "Identifier links the guardrails cut (values masked).",
    ),
    Table(
        "match_links",
        "identity/match_links.parquet",
        "file",
        _schema(
            "source_l record_id_l source_r record_id_r match_probability:double followed:bool cut_by "
            "customer_id_l customer_id_r"
        ),
        "identity_map",
        "derived",
        (),
        "Record pairs the matcher scored, whether followed, and what cut them.",
    ),
    Table(
        "match_review",
        "identity/match_review.parquet",
        "file",
        _schema(
            "source_l record_id_l source_r record_id_r match_weight:double match_probability:double "
            "threshold_weight:double above_threshold:bool linked:bool customer_id_l customer_id_r "
            + " ".join(f"{k}_{side}" for k in MATCH_REVIEW_KEYS for side in ("l", "r"))
        ),
        "identity_map",
        "derived",
        tuple(f"{k}_{side}" for k in MATCH_REVIEW_KEYS for side in ("l", "r")),
        "Probabilistic pairs near the link threshold, either side, with match weights and both "
        "records' match keys, for review.",
    ),
    Table(
        "consent_ledger",
        "consent/consent_ledger.parquet",
        "file",
        _schema(
            "identifier_type identifier purpose granted:bool captured_at:timestamp source "
            "source_record source_file known_purpose:bool unusable_reason"
        ),
        "consent_ledger",
        "derived",
        ("identifier",),
        "Every consent statement from every source, in one ledger.",
    ),
    Table(
        "event_consent_history",
        "consent/event_consent_history.parquet",
        "file",
        _schema(
            "identifier_type identifier purpose granted:bool captured_at:timestamp source "
            "source_record source_file message_id"
        ),
        "consent_ledger",
        "derived",
        ("identifier",),
        "The consent changes behavioural events made, kept before retention deletes the events.",
    ),
    Table(
        "effective_consent",
        "consent/effective_consent.parquet",
        "file",
        _schema("customer_id purpose granted:bool decided_at:timestamp decided_by_source"),
        "consent_ledger",
        "derived",
        (),
        "The consent in force per customer and purpose.",
    ),
    Table(
        "customer_predictions",
        "profiles/customer_predictions.parquet",
        "file",
        _schema(
            "customer_id currency model frequency:double recency_weeks:double t_weeks:double "
            "monetary_value:double tenure_months:double mrr:double p_alive:double "
            "expected_purchases_90d:double expected_spend:double predicted_clv_12m:double "
            "predicted_clv_12m_reporting:double churn_next_month:double expected_residual_months:double "
            "churn_risk model_version"
        ),
        "customer_predictions",
        "derived",
        (),
        "Predicted traits per customer and currency: BG/NBD or Pareto/NBD with Gamma-Gamma for one-off "
        "buyers, shifted-beta-geometric for subscribers (docs/predictions.md).",
    ),
    Table(
        "prediction_models",
        "profiles/prediction_models.parquet",
        "file",
        _schema("fitted_as_of:timestamp salt population models"),
        "customer_predictions",
        "derived",
        (),
        "The fitted prediction models (one row, JSON): the as-of they were fitted at, the buyer and "
        "subscription counts they were fitted on and every fit with its checks; later runs score with "
        "them until a refit is due (`lib/predictions/model_store.py`).",
    ),
    Table(
        "customer_profiles",
        "profiles/customer_profiles.parquet",
        "file",
        _schema(
            "customer_id email phone first_name last_name country first_seen_at:timestamp "
            "last_seen_at:timestamp first_signup_at:timestamp lifetime_value:double currency "
            "orders_count:int64 first_order_at:timestamp last_order_at:timestamp "
            "lifetime_value_by_currency lifetime_value_reporting:double subscription_status mrr:double "
            "mrr_by_currency nps_latest:int32 surveys_count:int64 forms_count:int64 acquisition_source "
            "consent_email_marketing:bool consent_sms_marketing:bool consent_ad_targeting:bool "
            "consent_analytics:bool rfm_recency_days:int64 rfm_recency:int64 rfm_frequency:int64 "
            "rfm_monetary:int64 p_alive:double expected_purchases_90d:double predicted_clv_12m:double "
            "predicted_clv_12m_reporting:double churn_risk model_version"
        ),
        "customer_profiles",
        "derived",
        ("email", "phone", "first_name", "last_name", "country"),
        "One row per active customer: golden attributes, revenue, engagement, consent, RFM scores.",
        variable_prefix="consent_",
        added=(
            ("lifetime_value_reporting", "NULL"),  # since reporting-currency figures (issue 17)
            # since predicted traits (issue 19)
            ("p_alive", "NULL"),
            ("expected_purchases_90d", "NULL"),
            ("predicted_clv_12m", "NULL"),
            ("predicted_clv_12m_reporting", "NULL"),
            ("churn_risk", "NULL"),
            ("model_version", "NULL"),
        ),
        open_columns=True,  # one column per computed trait (UDS_TRAITS_FILE, lib/profiles/traits.py)
    ),
    Table(
        "profile_state",
        "profiles/profile_state.parquet",
        "file",
        _schema(
            "customer_id email phone first_name last_name country first_seen_at:timestamp "
            "last_seen_at:timestamp first_signup_at:timestamp lifetime_value:double currency "
            "orders_count:int64 first_order_at:timestamp last_order_at:timestamp "
            "lifetime_value_by_currency subscription_status mrr:double "
            "mrr_by_currency nps_latest:int32 surveys_count:int64 forms_count:int64 acquisition_source "
            "records_fingerprint:int64 inputs_salt"
        ),
        "customer_profiles",
        "derived",
        ("email", "phone", "first_name", "last_name", "country"),
        "Each customer's profile columns that depend only on their records and Stripe objects "
        "(`last_seen_at` from records only; `lifetime_value_reporting` is converted from the totals "
        "at every run), a fingerprint of the records they came from and a hash "
        "of the SQL and settings they were computed with: an incremental run keeps the rows of "
        "customers nothing touched.",
    ),
    Table(
        "event_funnels",
        "profiles/event_funnels.parquet",
        "file",
        _schema(
            "as_of:timestamp funnel step:int64 event people:int64 conversion_from_previous:double "
            "conversion_from_start:double"
        ),
        "event_funnels",
        "derived",
        (),
        "People reaching each step of each funnel of UDS_TRAITS_FILE in order, as of the run.",
    ),
    Table(
        "customer_kpis",
        "profiles/customer_kpis.parquet",
        "file",
        _schema("as_of:timestamp kpi currency value:double"),
        "customer_kpis",
        "derived",
        (),
        "Customer KPIs as of the run, one row per KPI and currency (money never mixed across currencies).",
    ),
    Table(
        "segment_membership",
        "segments/segment_membership.parquet",
        "file",
        _schema("customer_id segment entered_at:timestamp"),
        "segment_membership",
        "derived",
        (),
        "Current members of each segment.",
    ),
    Table(
        "segment_history",
        "segments/segment_history.parquet",
        "file",
        _schema("customer_id segment entered_at:timestamp exited_at:timestamp"),
        "segment_membership",
        "derived",
        (),
        "Every segment entry and exit.",
    ),
    Table(
        "audience_members",
        "audiences/audience_members.parquet",
        "file",
        _schema(
            "audience segment purpose format customer_id email first_name last_name email_sha256 "
            "phone_sha256 exported_at:timestamp destination_fields"
        ),
        "audience_members",
        "export",
        ("email", "first_name", "last_name", "email_sha256", "phone_sha256", "destination_fields"),
        "The rows of the latest audience exports, one per audience member.",
        # an ad-platform row (JSON, header -> cell as in the file); since the destination formats
        added=(("destination_fields", "NULL"),),
    ),
    Table(
        "audience_counts",
        "audiences/audience_counts.parquet",
        "file",
        _schema(
            "audience:large_string in_segment:int64 excluded_no_consent:int64 "
            "excluded_erased_or_suppressed:int64 exported:int64 members_without_profile:int64 "
            "exported_without_contact:int64 excluded_no_match_key:int64"
        ),
        "audience_members",
        "export",
        (),
        "Per audience: segment size, exclusions and rows exported.",
        added=(("excluded_no_match_key", "0"),),  # since the destination formats
    ),
    Table(
        "requests_audit",
        "privacy/requests_audit.parquet",
        "file",
        _schema(
            "request_id type received_at:timestamp completed_at:timestamp status rows_removed:int64 "
            "removed_counts run_id detail"
        ),
        "privacy_requests",
        "privacy",
        (),
        "One row per data-subject request handled, without the subject's identifiers.",
        also_written_by=("access_reports",),
    ),
    Table(
        "suppression",
        "privacy/suppression.parquet",
        "file",
        _schema("id_type id_hash request_id added_at:timestamp"),
        "privacy_requests",
        "privacy",
        (),
        "Keyed hashes of erased people's identifiers, screened at landing.",
    ),
    Table(
        "erasures_in_progress",
        "privacy/erasures_in_progress.parquet",
        "file",
        _schema("request_id type received_at:timestamp status subject"),
        "privacy_requests",
        "privacy",
        ("subject",),
        "Erasures started but not finished (removed when none are left), so a crash resumes them.",
    ),
]


# What a column holds where its name and type do not say it all: shown in docs/ARCHITECTURE.md
# and as the column's description in the Dagster UI.
COLUMN_NOTES: dict[str, dict[str, str]] = {
    "person_records": {
        "nps": "a survey response's score (profiles read the newest)",
        "utm_source": "a form submission's (profiles read the first as the acquisition source)",
        "source_hash": "md5 of the raw columns the record was built from: an unchanged record is not "
        "normalized again",
        "email_n": "the email's display form (`normalize_email`), computed when the record is merged; "
        "`phone_n` (E.164), `country_n`, `first_name_n` and `last_name_n` likewise",
        "normalized": "true when those columns were computed at merge (a NULL one is then a value the "
        "normalizer refused); NULL for records merged before, which profiles normalize themselves",
    },
    "stripe_versions": {
        "object_type": "`customer`, `charge`, ... (`refund` also for refunds embedded in charges)",
        "slot": "`latest`: the object's newest event; `live`: a customer's newest event that is not a "
        "deletion; `deleted`: a customer's first deletion",
        "event_created": "the event's `created`; ties go to the greater `event_id` (`deleted`: the earliest)",
    },
    "stage_watermarks": {
        "step": "the step that merged the batch (`stripe_staging`, `identity_inputs`)",
        "source_table": "the landed table the batch belongs to",
        "batch": "the batch file's name",
    },
    "landed_stripe": {
        "event_id": "`evt_...`",
        "type": "e.g. `customer.created`; unknown types kept",
        "created": "from the envelope's unix `created`",
        "object_type": "`data.object.object`",
        "object_id": "`data.object.id`",
        "customer_ref": "`data.object.id` for customers, else `data.object.customer`",
        "payload": "the whole event as JSON text",
        "source_file": "inbox file name (or `events_api`)",
        "position": "line / index in the file",
    },
    "events": {
        "message_id": "Segment/RudderStack `messageId`; a message lands once",
        "type": "`track` | `identify` | `page` | `screen` | `group` | `alias`",
        "event": "the track event's name",
        "name": "the page or screen name",
        "timestamp": "when the event happened (Segment's skew-corrected `timestamp`, else "
        "`originalTimestamp`); its UTC day is the partition folder `day=YYYY-MM-DD`",
        "properties": "JSON object as sent",
        "traits": "JSON: the identify/group `traits`",
        "context": "JSON: the whole `context` (ip, userAgent, campaign, page, consent, ...)",
        "utm_source": "`context.campaign.source`; `utm_campaign` is `context.campaign.name`",
        "page_url": "`context.page.url` (for page calls, else `properties.url`)",
        "source": "the write key's source name (set by uds-collect), else null",
        "violations": "JSON array of tracking-plan violations when the plan flags them, else null",
        "position": "line in the file",
    },
    "landed_survey_responses": {
        "response_id": "the export's id (e.g. Qualtrics `ResponseId`), else a stable hash of survey id, "
        "row position and row content",
        "layout": "`qualtrics_3row`, `qualtrics_legacy`, `surveymonkey`, `typeform`, `google_forms`, `plain`",
        "respondent_email": "raw as given, like the other contact columns; null when absent",
        "external_id": "an app's user id: Qualtrics `ExternalReference`, a Typeform hidden field, a listed "
        "SurveyMonkey column; trimmed",
        "nps": "0-10 or null",
    },
    "landed_survey_answers": {"answer": "as given; formulas kept as text"},
    "landed_forms": {
        "submission_id": "source id, else a stable hash of the normalized payload",
        "form_provider": "`hubspot`, `typeform`, `webflow`, `netlify`, `flat`",
        "external_id": "an app's user id from a Typeform `hidden` field or a listed form field, trimmed "
        "(the field also stays in `fields_json`)",
        "fields_json": "all other fields as JSON text",
        "utm_source": "raw as given, like the other `utm_*` columns",
    },
    "landed_consent": {
        "identifier_type": "`email` | `phone` | `stripe_customer` | `customer_id`",
        "identifier": "raw value as given",
        "source": "`survey` | `form` | `stripe` | `privacy`",
        "source_record": "the record id",
    },
    "landed_privacy": {"type": "`erasure` | `access` | `consent`"},
    "landed_files": {"sha256": "the same content is landed once"},
    "quarantine": {
        "source": "the singular record source: `stripe`, `survey`, `form`, `privacy`, `event`",
        "position": "1-based line / data row / list index; 0 for a whole unreadable file",
        "raw": "the record's text (none for `suppressed`)",
    },
    "stripe_customers": {
        "address_line1": "the customer's address, else its shipping address; never mixed from two",
        "external_id": "the first non-blank `metadata` value whose key is an external-id field name "
        "(`UDS_EXTERNAL_ID_FIELDS`, e.g. `metadata.user_id`)",
    },
    "stripe_charges": {"amount": "minor units; `currency` lower-case ISO 4217"},
    "stripe_subscriptions": {"mrr_minor": "monthly-normalized sum of the items, minor units"},
    "stripe_checkout_sessions": {
        "promotions_consent": "`opt_in` | `opt_out` | null",
        "address_line1": "the billing address typed at checkout (with `city`, `postcode`, `country`)",
    },
    "identifiers": {
        "source": "`stripe` | `survey` | `form` | `events`",
        "id_type": "`record` | `email` | `phone` | `stripe_customer` | `external_id` | `event_user` (a "
        "behavioural-events userId, on its user record and on the anonymous ids tied to it)",
        "id_value": "normalized match key",
    },
    "identity_map": {
        "record_id": "for `events`: `user:<userId>`, `anon:<anonymousId>` (tied to a user) or "
        "`alias:<previousId>` (an alias between two userIds)",
        "origin_customer_id": "the id the record first received",
        "fingerprint": "a hash of the identifiers the record was resolved with, and of the guardrail settings: "
        "the next run resolves again only records whose fingerprint changed (and what they reach)",
        "guarded": "the record held a value a guardrail refused (resolved again on every run: the value's "
        "holders can fall under its limit)",
    },
    "consent_ledger": {
        "identifier_type": "as in `landed_consent`; statements from behavioural events: `user_id` | `anonymous_id`",
        "source_record": "the record that made the statement; for events `user:<userId>` / `anon:<anonymousId>`, "
        "as the identity map names event records",
    },
    "suppression": {
        "id_type": "`email`, `phone`, `stripe_customer`, `customer_id`, `survey_response`, `form_submission`, "
        "`external_id`, and an erased person's event ids `event_user` / `event_anonymous`",
        "id_hash": "HMAC-SHA256 of the normalized value under the suppression key",
    },
    "identity_changes": {"change": "`new` | `merge` | `split` | `revive`"},
    "customer_kpis": {
        "as_of": "the run's as-of time (`UDS_AS_OF`, else the wall clock)",
        "kpi": "`customers`, `active_customers_30d`, `active_customers_90d`, `buyers`, `churn_rate`, "
        "`conversion_rate`, `nps`, `nps_respondents` (no currency); per currency `buyers`, `total_ltv`, "
        "`average_ltv`, `median_ltv`; in the reporting currency `buyers_reporting`, `total_ltv_reporting`, "
        "`average_ltv_reporting`, `median_ltv_reporting`, `buyers_without_fx_rate`",
        "currency": "upper-case ISO 4217 code; NULL for KPIs that are not money figures",
        "value": "counts, rates (0-1), NPS (-100 to 100) or amounts in `currency`'s major unit, rounded to "
        "its decimals (none for JPY, KRW, ...)",
    },
    "customer_predictions": {
        "model": "`bgnbd` | `pareto_nbd` (one-off buyers, the better likelihood per currency) | `sbg` (subscribers, the model over all plans) | `sbg:<plan>` (a plan with its own fit)",
        "frequency": "repeat purchase days before the as-of day (one-off buyers); with `recency_weeks` and "
        "`t_weeks` the RFM summary the model was fitted on",
        "monetary_value": "mean value of the repeat purchase days, major unit of `currency`",
        "tenure_months": "monthly renewals survived (subscribers)",
        "p_alive": "one-off buyers: P(still a customer); subscribers: P(still subscribed after the next month)",
        "expected_purchases_90d": "expected purchase days (subscribers: renewals) in the next 90 days",
        "expected_spend": "Gamma-Gamma expected spend per purchase (subscribers: MRR), major unit",
        "predicted_clv_12m": "discounted expected revenue of the next 12 months (10% a year), major unit of "
        "`currency`; NULL without a spend fit",
        "predicted_clv_12m_reporting": "`predicted_clv_12m` at the as-of rate to the reporting currency",
        "churn_next_month": "subscribers: P(cancel at the end of the next month)",
        "expected_residual_months": "subscribers: discounted expected residual lifetime in months (DERL)",
        "churn_risk": "`low` | `medium` | `high`: P(lost) below 0.25, below 0.5, from 0.5 (docs/predictions.md)",
        "model_version": "models and a hash of their fitted parameters",
    },
    "customer_profiles": {
        "p_alive": "from `customer_predictions` (profile currency); NULL where the history is too short to fit",
        "predicted_clv_12m_reporting": "every currency's `predicted_clv_12m` in the reporting currency, summed; "
        "NULL when one has no rate",
        "lifetime_value": "major unit of `currency` (the person's largest currency total)",
        "lifetime_value_by_currency": "JSON: lower-case currency -> net total in its major unit (JPY, KRW, ... "
        "have no minor unit)",
        "lifetime_value_reporting": "every currency's total converted to the reporting currency "
        "(`UDS_REPORTING_CURRENCY`) at the newest `UDS_FX_RATES` rate on or before the run's as-of day, and "
        "summed; NULL when one of the person's currencies has no rate (docs/currencies.md)",
        "consent_email_marketing": "one `consent_<purpose>` column per configured purpose",
    },
}

# What holds for a whole table beyond its one-line description.
TABLE_NOTES: dict[str, str] = {
    "stripe_events": "Staging tables are rebuilt from the landed events on each run: events are "
    "deduplicated by `event_id`, and the state of each object is the payload of its newest event by "
    "`created` (ties broken by event id), never by arrival order.",
    "customer_profiles": "Plus one column per event-based computed trait of `UDS_TRAITS_FILE` "
    "(docs/traits.md), after the consent columns; `last_seen_at` also counts the person's newest event.",
    "landed_consent": "Stripe checkout `consent.promotions` statements are derived in staging "
    "(`stripe_consents`).",
}

TABLES: dict[str, Table] = {t.name: t for t in _DECLARED}

# Views over catalog tables, registered with them (`lake_views.register`): SQL naming tables only.
VIEWS: dict[str, str] = {
    # Landed events with the person they belong to: the customer of their userId's record, else of
    # their anonymousId's (an anonymous id tied to a user: lib/identity/event_sources.py), so events
    # before identify belong to the person once the tie is known; NULL when neither is known.
    "person_events": """
        SELECT e.*, coalesce(mu.customer_id, ma.customer_id) AS customer_id
        FROM events e
        LEFT JOIN identity_map mu ON mu.source = 'events' AND mu.record_id = 'user:' || e.user_id
        LEFT JOIN identity_map ma ON ma.source = 'events' AND ma.record_id = 'anon:' || e.anonymous_id
    """,
}
# The tables each view reads (registered with it when it is registered alone).
VIEW_TABLES: dict[str, tuple[str, ...]] = {"person_events": ("events", "identity_map")}


def table(name: str) -> Table:
    return TABLES[name]


def path(lake_dir: Path, name: str) -> Path:
    return lake_dir / TABLES[name].path


def duckdb_type(data_type: pa.DataType) -> str:
    """The DuckDB type a reader sees for an Arrow column type of the lake."""
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "VARCHAR"
    if pa.types.is_timestamp(data_type):
        return "TIMESTAMP WITH TIME ZONE" if data_type.tz else "TIMESTAMP"
    return {"int32": "INTEGER", "int64": "BIGINT", "double": "DOUBLE", "bool": "BOOLEAN"}[str(data_type)]


def markdown() -> str:
    """The docs section listing every table, generated from the declarations above."""
    lines = [
        "## Lake tables (generated from lib/catalog.py)",
        "",
        "Paths are relative to `lake/`. Regenerate with "
        "`python -m uds_pipelines.lib.catalog --write docs/ARCHITECTURE.md`.",
        "",
        "| table (asset key) | path | kind | written by (step) | layer | personal columns |",
        "|---|---|---|---|---|---|",
    ]
    for t in TABLES.values():
        owner = ", ".join(f"`{o}`" for o in (t.owner, *t.also_written_by))
        personal = ", ".join(f"`{c}`" for c in t.personal) or "—"
        path_text = t.path + ("/" if t.kind == "folder" else "")
        if t.partitioned_by:
            path_text += f"{t.partitioned_by}=*/"
        lines.append(f"| `{t.name}` | `{path_text}` | {t.kind} | {owner} | {t.layer} | {personal} |")
    for t in TABLES.values():
        lines += ["", f"### `{t.name}`", "", t.description]
        if t.name in TABLE_NOTES:
            lines += ["", TABLE_NOTES[t.name]]
        if t.expires_by:
            lines += ["", f"Retention deletes rows by `{t.expires_by}`."]
        lines += ["", "| column | type | note |", "|---|---|---|"]
        notes = COLUMN_NOTES.get(t.name, {})
        for f in t.schema:
            note = "; ".join(
                n
                for n in (
                    notes.get(f.name, ""),
                    "personal" if f.name in t.personal else "",
                    f"added later: older files read `{dict(t.added)[f.name]}`"
                    if f.name in dict(t.added)
                    else "",
                )
                if n
            )
            lines.append(f"| `{f.name}` | {duckdb_type(f.type)} | {note} |")
    for name, sql in VIEWS.items():
        tables = ", ".join(f"`{t}`" for t in VIEW_TABLES[name])
        lines += [
            "",
            f"### view `{name}`",
            "",
            f"A DuckDB view over {tables}, registered with the tables:",
            "",
        ]
        lines += ["```sql", textwrap.dedent(sql).strip(), "```"]
    return "\n".join(lines) + "\n"


START, END = "<!-- catalog:start -->", "<!-- catalog:end -->"


def with_markdown(doc: str) -> str:
    """`doc` with the text between the catalog markers replaced by `markdown()`."""
    head, rest = doc.split(START, 1)
    _old, tail = rest.split(END, 1)
    return f"{head}{START}\n{markdown()}{END}{tail}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--write"] and len(argv) == 2:
        target = Path(argv[1])
        target.write_text(with_markdown(target.read_text()))
    else:
        sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
