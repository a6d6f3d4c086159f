"""Identity resolution: identity graph with guardrails, stable customer ids and a change log."""

from uds_pipelines.lib.identity.guardrails import GuardrailConfig
from uds_pipelines.lib.identity.resolve import ResolutionResult, resolve_identities, write_outputs

__all__ = ["GuardrailConfig", "ResolutionResult", "resolve_identities", "write_outputs"]
