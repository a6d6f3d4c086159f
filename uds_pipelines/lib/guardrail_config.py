"""The identity guardrails' settings (`GuardrailConfig`) as plain, validated data.

They live below `config` rather than in `identity` so that `Settings` can read and check
`UDS_IDENTITY_GUARDRAILS` at start-up (a typo stops the run naming the variable) without the
configuration importing a pipeline stage. What the settings do (the SQL that blocks values and
cuts the graph) stays in `lib.identity.guardrails`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

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
DEFAULT_TYPE_LIMITS: dict[str, int] = {
    "email": 5,
    "phone": 5,
    "stripe_customer": 10,
    "external_id": 5,
    "event_user": 5,
}
# Strongest first; guardrails cut the last listed types first. An app's own user id
# (`external_id`) is a stronger link than an email, weaker than the Stripe customer itself.
# `event_user` (a userId, on its own record and on the anonymous ids tied to it) ranks with it.
DEFAULT_PRIORITY: tuple[str, ...] = (
    "stripe_customer",
    "external_id",
    "event_user",
    "email",
    "phone",
    "probabilistic",
)


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
    match_threshold: float = 0.99  # fuzzy links, fallback weights only: a trained model sets its own
    # A component joined by fuzzy links may hold at most this many records (lib.identity.fuzzy_guard).
    max_fuzzy_component_records: int = 20
    # Not a cut: the size above which the identity_map warning check names a component.
    warn_component_records: int = 25
    # Behavioural events: an anonymousId seen with more users than this is a shared device (a family
    # laptop, a kiosk) and links nobody (lib.identity.event_sources). 1: two accounts never merge
    # because one browser served both; raise it only if one person's userIds can differ.
    max_users_per_anonymous_id: int = 1

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
        for key in (
            "max_records_per_value",
            "max_rounds",
            "warn_component_records",
            "max_fuzzy_component_records",
            "max_users_per_anonymous_id",
        ):
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
        if self.max_fuzzy_component_records < 2:
            raise ValueError("max_fuzzy_component_records must be >= 2")
        if self.max_users_per_anonymous_id < 1:
            raise ValueError("max_users_per_anonymous_id must be >= 1")
        if self.warn_component_records < 2:
            raise ValueError("warn_component_records must be >= 2")
        if not 0.0 < self.match_threshold <= 1.0:
            raise ValueError("match_threshold must be in (0, 1]")

    def max_records_for(self, id_type: str) -> int:
        return self.max_records_per_value_by_type.get(id_type, self.max_records_per_value)
