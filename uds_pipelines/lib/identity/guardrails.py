"""Guardrails that keep junk identifiers from gluing different people together."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from uds_pipelines.lib.masking import mask_email, mask_phone

# RE2 patterns (DuckDB regexp_full_match on the lower-cased value).
DEFAULT_BLOCKED_PATTERNS: dict[str, tuple[str, ...]] = {
    "email": (
        r"(no-?reply|do-?not-?reply|no-?email|null|none|nobody|unknown)(\+[^@]*)?@.*",
        r".*@((.*\.)?(example|test)\.(com|org|net))",
        r".*@.*\.(test|example|invalid|localhost)",
    ),
}
DEFAULT_BLOCKED_VALUES: dict[str, tuple[str, ...]] = {
    "email": ("test@test.com", "example@example.com", "email@email.com", "a@a.com", "n/a@n/a.com"),
    "phone": (),
}
DEFAULT_TYPE_LIMITS: dict[str, int] = {"email": 5, "phone": 5, "stripe_customer": 10, "external_id": 5}
# Strongest first; guardrails cut the last listed types first. An app's own user id
# (`external_id`) is a stronger link than an email, weaker than the Stripe customer itself.
DEFAULT_PRIORITY: tuple[str, ...] = ("stripe_customer", "external_id", "email", "phone", "probabilistic")

RULE_BLOCKED_VALUE = "blocked_value"
RULE_BLOCKED_PATTERN = "blocked_pattern"
RULE_PLACEHOLDER_PHONE = "placeholder_phone"
RULE_MAX_RECORDS = "max_records_per_value"
RULE_TYPE_LIMIT = "per_type_limit"


@dataclass(frozen=True)
class GuardrailConfig:
    """What the identity graph refuses to follow; every field has a sane default."""

    blocked_values: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_BLOCKED_VALUES))
    blocked_patterns: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_BLOCKED_PATTERNS)
    )
    block_placeholder_phones: bool = True
    max_records_per_value: int = 50
    max_records_per_value_by_type: dict[str, int] = field(default_factory=dict)
    max_values_per_type: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TYPE_LIMITS))
    type_priority: tuple[str, ...] = DEFAULT_PRIORITY
    max_rounds: int = 10
    match_threshold: float = 0.99
    # Not a cut: the size above which the identity_map warning check names a component.
    warn_component_records: int = 25

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> GuardrailConfig:
        """Build from a plain dict (e.g. YAML); unknown keys are an error so typos do not pass silently."""
        data = dict(data or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown guardrail setting(s): {', '.join(unknown)}")
        base = cls()
        kwargs: dict[str, Any] = {}
        for key in ("blocked_values", "blocked_patterns"):
            if key in data:
                merged = dict(getattr(base, key))
                merged.update({t: tuple(v or ()) for t, v in (data[key] or {}).items()})
                kwargs[key] = merged
        for key in ("max_values_per_type", "max_records_per_value_by_type"):
            if key in data:
                merged = dict(getattr(base, key))
                merged.update({t: int(v) for t, v in (data[key] or {}).items()})
                kwargs[key] = merged
        if "type_priority" in data:
            kwargs["type_priority"] = tuple(data["type_priority"])
        for key in ("block_placeholder_phones",):
            if key in data:
                kwargs[key] = bool(data[key])
        for key in ("max_records_per_value", "max_rounds", "warn_component_records"):
            if key in data:
                kwargs[key] = int(data[key])
        if "match_threshold" in data:
            kwargs["match_threshold"] = float(data["match_threshold"])
        config = cls(**kwargs)
        config.validate()
        return config

    @classmethod
    def from_yaml(cls, path: Path) -> GuardrailConfig:
        return cls.from_dict(yaml.safe_load(Path(path).read_text()) or {})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> None:
        if self.max_records_per_value < 2:
            raise ValueError("max_records_per_value must be >= 2 (a value on one record links nothing)")
        if any(v < 1 for v in self.max_values_per_type.values()):
            raise ValueError("max_values_per_type limits must be >= 1")
        if self.warn_component_records < 2:
            raise ValueError("warn_component_records must be >= 2")
        if not 0.0 < self.match_threshold <= 1.0:
            raise ValueError("match_threshold must be in (0, 1]")

    def max_records_for(self, id_type: str) -> int:
        return self.max_records_per_value_by_type.get(id_type, self.max_records_per_value)


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
