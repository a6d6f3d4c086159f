"""Names shared by the Dagster wiring: groups, owners, check names, job names."""

from uds_pipelines.lib.locks import INBOX_SOURCES as INBOX_SOURCES  # one list: sensors, landing locks

GROUP_INGEST = "ingest"
GROUP_IDENTITY = "identity"
GROUP_PROFILES = "profiles"
GROUP_SEGMENTS = "segments"
GROUP_AUDIENCES = "audiences"
GROUP_PRIVACY = "privacy"

OWNERS = ["team:data-platform"]

CHECK_CONSERVATION = "records_conserved"
CHECK_CUSTOMER_ID_UNIQUE = "customer_id_unique"
CHECK_PROFILE_HAS_IDENTIFIER = "every_profile_has_an_identifier"
CHECK_MAP_COMPLETE = "every_record_has_a_customer"
CHECK_COMPONENT_SIZE = "no_oversized_identity_components"
CHECK_AUDIENCE_CONSENT_SAFE = "audience_members_consent_safe"
CHECK_SEGMENTS_VALID = "segment_definitions_valid"
CHECK_FX_RATES_COVER_PROFILES = "every_profile_currency_has_a_rate"
CHECK_TRAITS_VALID = "trait_definitions_valid"

JOB_FULL_RUN = "uds_full_run"
# A run tagged `uds/rebuild=true` (`uds-run --rebuild`) rebuilds durable state from every landed batch.
REBUILD_TAG = "uds/rebuild"
JOB_DAILY_PROFILES = "daily_profiles_job"
JOB_DAILY_AUDIENCES = "daily_audiences_job"
JOB_STRIPE_CATCHUP = "stripe_events_catchup_job"
JOB_RETENTION = "retention_job"
CHECK_ERASURE_VERIFIED = "erased_people_are_gone_everywhere"
