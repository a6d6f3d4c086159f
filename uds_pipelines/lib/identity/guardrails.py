"""Guardrails that keep junk identifiers from gluing different people together: the SQL that
applies a `GuardrailConfig` (`lib.guardrail_config`) to identifier values."""

from __future__ import annotations

from uds_pipelines.lib.guardrail_config import GuardrailConfig
from uds_pipelines.lib.masking import mask_email, mask_phone

RULE_BLOCKED_VALUE = "blocked_value"
RULE_BLOCKED_PATTERN = "blocked_pattern"
RULE_PLACEHOLDER_PHONE = "placeholder_phone"
RULE_MAX_RECORDS = "max_records_per_value"
RULE_TYPE_LIMIT = "per_type_limit"


def sql_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _placeholder_phone_pattern() -> str:
    """RE2 pattern: a 0-3 digit country code, then 7+ repeats of one digit or a running sequence."""
    runs = {str(d) * 7 + "+" for d in range(10)}
    for cycle in ("01234567890123456789", "98765432109876543210"):
        for start in range(10):
            for end in range(start + 7, len(cycle) + 1):
                runs.add(cycle[start:end])
    return r"\d{0,3}(" + "|".join(sorted(runs)) + ")"


def _placeholder_phone_sql(column: str) -> str:
    """True for all-same-digit or running-sequence numbers once a 0-3 digit country code is skipped."""
    # One RE2 automaton (no backreferences in RE2) is far cheaper than string arithmetic per row.
    digits = f"regexp_replace({column}, '[^0-9]', '', 'g')"
    return f"regexp_full_match({digits}, {sql_quote(_placeholder_phone_pattern())})"


def blocked_rule_sql(config: GuardrailConfig, type_col: str = "id_type", value_col: str = "id_value") -> str:
    """A SQL expression naming the rule that blocks (type, value), or NULL when it may link."""
    whens: list[str] = []
    lowered = f"lower({value_col})"
    for id_type, values in config.blocked_values.items():
        if values:
            listed = ", ".join(sql_quote(v.lower()) for v in values)
            whens.append(
                f"WHEN {type_col} = {sql_quote(id_type)} AND {lowered} IN ({listed}) THEN '{RULE_BLOCKED_VALUE}'"
            )
    for id_type, patterns in config.blocked_patterns.items():
        for pattern in patterns:
            whens.append(
                f"WHEN {type_col} = {sql_quote(id_type)} AND regexp_full_match({lowered}, {sql_quote(pattern)})"
                f" THEN '{RULE_BLOCKED_PATTERN}'"
            )
    if config.block_placeholder_phones:
        whens.append(
            f"WHEN {type_col} = 'phone' AND {_placeholder_phone_sql(value_col)} THEN '{RULE_PLACEHOLDER_PHONE}'"
        )
    if not whens:
        return "CAST(NULL AS VARCHAR)"
    return "CASE " + " ".join(whens) + " ELSE NULL END"


def max_records_sql(config: GuardrailConfig, type_col: str = "id_type") -> str:
    """A SQL expression giving the per-type `max_records_per_value` limit."""
    whens = " ".join(
        f"WHEN {type_col} = {sql_quote(t)} THEN {int(n)}"
        for t, n in config.max_records_per_value_by_type.items()
    )
    return (
        f"CASE {whens} ELSE {int(config.max_records_per_value)} END"
        if whens
        else str(config.max_records_per_value)
    )


def mask_identifier(id_type: str, value: str | None) -> str | None:
    """Masked form of an identifier for reports and logs."""
    if value is None:
        return None
    if id_type == "email":
        return mask_email(value)
    if id_type == "phone":
        return mask_phone(value)
    text = str(value)
    return text[:4] + "***" if len(text) > 6 else "***"
