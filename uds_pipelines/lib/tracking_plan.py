"""The tracking plan (`tracking_plan.yaml`): a JSON Schema per track event and for identify traits,
and what to do with events the plan does not list and with events that break it.

It lives below `config` (like `guardrail_config`) so that `Settings` can load and compile the file
at start-up, and a broken plan stops the run naming `UDS_TRACKING_PLAN`. Validators are compiled
once with fastjsonschema (plain Python functions, ~50x faster than interpreting the schema per
record); events landing calls one per record of a planned event (`lib.ingest.events.plan_check`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml

POLICIES = ("allow", "flag", "quarantine")
_KEYS = {"unplanned_events", "violations", "events", "identify_traits", "consent_categories", "description"}

Validator = Callable[[Any], Any]


class PlanError(ValueError):
    """The plan file is not a valid tracking plan; the message says where."""


@dataclass(frozen=True)
class TrackingPlan:
    """`unplanned_events`: policy for track events with no schema; `violations`: policy for records
    failing their schema (`allow` lands them silently, `flag` lands them with the violation listed,
    `quarantine` keeps them out of the lake with the violation as the reason)."""

    unplanned_events: str = "allow"
    violations: str = "flag"
    event_schemas: dict[str, dict] = field(default_factory=dict)
    identify_traits: dict | None = None
    validators: dict[str, Validator] = field(default_factory=dict, compare=False, repr=False)
    traits_validator: Validator | None = field(default=None, compare=False, repr=False)
    # consent manager category (lower-cased) -> our purposes (lib.consent.events)
    consent_categories: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> TrackingPlan:
        if not isinstance(data, dict):
            raise PlanError("a tracking plan is a mapping with `events` (and optional policies)")
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise PlanError(f"unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(_KEYS))}")
        policies = {key: data.get(key, default) for key, default in (("unplanned_events", "allow"), ("violations", "flag"))}
        for key, value in policies.items():
            if value not in POLICIES:
                raise PlanError(f"{key}: {value!r} must be one of {', '.join(POLICIES)}")
        events = data.get("events") or {}
        if not isinstance(events, dict):
            raise PlanError("events: a mapping of event name -> JSON Schema of its properties")
        traits = data.get("identify_traits")
        validators = {str(name): _compile(schema, f"events.{name}") for name, schema in events.items()}
        return cls(
            consent_categories=_consent_categories(data.get("consent_categories")),
            unplanned_events=policies["unplanned_events"],
            violations=policies["violations"],
            event_schemas={str(k): v for k, v in events.items()},
            identify_traits=traits,
            validators=validators,
            traits_validator=_compile(traits, "identify_traits") if traits is not None else None,
        )

    @classmethod
    def from_yaml(cls, path: Path) -> TrackingPlan:
        return _load(path.resolve(), path.stat().st_mtime_ns)

    @property
    def planned_events(self) -> list[str]:
        return sorted(self.validators)


@functools.lru_cache(maxsize=4)
def _load(path: Path, _mtime_ns: int) -> TrackingPlan:
    """Parsed and compiled once per file version (Settings are built often; compiling is not free)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PlanError(f"not valid YAML: {exc}") from None
    return TrackingPlan.from_dict(data)


def _consent_categories(value: Any) -> dict[str, tuple[str, ...]]:
    """`consent_categories`: category -> purpose or list of purposes (lower-case identifiers)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PlanError("consent_categories: a mapping of consent category -> purpose or list of purposes")
    out: dict[str, tuple[str, ...]] = {}
    for category, purposes in value.items():
        listed = [purposes] if isinstance(purposes, str) else purposes
        if not isinstance(listed, list) or not all(
            isinstance(p, str) and re.fullmatch(r"[a-z][a-z0-9_]*", p) for p in listed
        ):
            raise PlanError(f"consent_categories.{category}: purposes are lower-case names like ad_targeting")
        out[str(category).strip().lower()] = tuple(listed)
    return out


def _compile(schema: Any, where: str) -> Validator:
    if not isinstance(schema, dict):
        raise PlanError(f"{where}: a JSON Schema (a mapping) is expected, got {type(schema).__name__}")
    try:
        return fastjsonschema.compile(schema)
    except fastjsonschema.JsonSchemaDefinitionException as exc:
        raise PlanError(f"{where}: invalid JSON Schema: {exc}") from None


def violation(validator: Validator, value: Any, root: str) -> str | None:
    """The first way `value` breaks its schema, in the record's terms (`properties.total must be
    number`), or None. fastjsonschema stops at the first error: one violation per record."""
    try:
        validator(value)
    except fastjsonschema.JsonSchemaValueException as exc:
        message = exc.message
        return root + message[4:] if message.startswith("data") else message
    return None
