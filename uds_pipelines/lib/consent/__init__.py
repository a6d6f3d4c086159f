"""Consent ledger and effective consent per person (CONTRACT section 6)."""

from uds_pipelines.lib.consent.effective import (
    DEFAULT_KEY_EXPRESSIONS,
    EffectiveConsent,
    effective_consent,
    wide_consent_sql,
)
from uds_pipelines.lib.consent.ledger import ConsentLedger, build_consent_ledger, write_ledger

__all__ = [
    "DEFAULT_KEY_EXPRESSIONS",
    "ConsentLedger",
    "EffectiveConsent",
    "build_consent_ledger",
    "effective_consent",
    "wide_consent_sql",
    "write_ledger",
]
