"""Computed traits (`traits.TraitDefinition`) compiled to ONE aggregate query over `person_events`.

One GROUP BY customer_id pass computes every trait with a FILTER per trait, whatever their number:
never a query per trait or per person. Events after the as-of time are left out, so a rerun with
an old `UDS_AS_OF` gives the old values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from uds_pipelines.lib import lake
from uds_pipelines.lib.profiles.traits import TraitDefinition

# The newest event of each person: merged into the profile's `last_seen_at` (build.profiles_sql).
LAST_EVENT = "_events_last_at"
_ZERO_WHEN_NONE = ("count", "unique_count")
# Kinds finished from the list of a person's values: collecting a plain list and reducing it per
# person costs a third of DuckDB's per-group histogram or DISTINCT aggregates (measured at 1M events).
_FROM_LIST = {
    # the smallest of the most frequent values, so the result never depends on row order
    "most_frequent": "list_min(list_transform(map_entries(list_histogram({c})), "
    "lambda e: struct_pack(n := -CAST(e.value AS BIGINT), v := e.key))).v",
    "unique_list": "CASE WHEN len({c}) > 0 THEN to_json(list_sort(list_distinct({c})))::VARCHAR END",
    "unique_count": "len(list_distinct({c}))",
}


@dataclass(frozen=True)
class CompiledTraits:
    """`sql`: customer_id, `LAST_EVENT`, one column per trait; `columns`: the profile's projection
    of them over the alias `tr` (counts 0 for people without events), with leading commas."""

    sql: str
    columns: str


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_path(dotted: str) -> str:
    """`products.0.sku` -> `$."products"[0]."sku"` (every key quoted, digits are array indexes)."""
    parts = [f"[{p}]" if p.isdigit() else '."' + p.replace('"', "") + '"' for p in dotted.split(".")]
    return _quote("$" + "".join(parts))


def _value(trait: TraitDefinition) -> str:
    reads = [f"json_extract_string(properties, {_json_path(p)})" for p in trait.properties]
    return reads[0] if len(reads) == 1 else f"coalesce({', '.join(reads)})"


def _names(events: tuple[str, ...]) -> str:
    return ", ".join(_quote(e) for e in events)


def _condition(trait: TraitDefinition, as_of: str) -> str:
    parts = []
    if trait.events:
        parts.append(f"event IN ({_names(trait.events)})")
    if trait.type:
        parts.append(f"type = {_quote(trait.type)}")
    if trait.window:
        parts.append(f"timestamp > {as_of} - INTERVAL {trait.window}")
    return " AND ".join(parts) or "true"


def trait_expression(trait: TraitDefinition, as_of: str) -> str:
    """The aggregate computing `trait` per person (`as_of`: a TIMESTAMPTZ SQL literal); for the kinds
    of `_FROM_LIST`, the list of values `compile_traits` reduces."""
    where = _condition(trait, as_of)
    if trait.kind == "count":
        return f"count(*) FILTER (WHERE {where})"
    if trait.kind in ("first_timestamp", "last_timestamp"):
        return f"{'min' if trait.kind == 'first_timestamp' else 'max'}(timestamp) FILTER (WHERE {where})"
    if trait.kind == "abandoned":
        last = f"max(timestamp) FILTER (WHERE {where})"
        follow = f"max(timestamp) FILTER (WHERE event IN ({_names(trait.followed_by)}))"
        return (
            f"CASE WHEN {last} <= {as_of} - INTERVAL {trait.within} "
            f"AND coalesce({follow} < {last}, true) THEN {last} END"
        )
    value = _value(trait)
    present = f"{where} AND ({value}) IS NOT NULL"
    if trait.kind in ("sum", "avg", "min", "max"):
        return f"{trait.kind}(TRY_CAST({value} AS DOUBLE)) FILTER (WHERE {where})"
    if trait.kind in ("first_value", "last_value"):
        pick = "arg_min" if trait.kind == "first_value" else "arg_max"
        # ties in time go to the greater messageId, so a rerun picks the same value
        return f"{pick}({value}, struct_pack(t := timestamp, m := message_id)) FILTER (WHERE {present})"
    if trait.kind in _FROM_LIST:
        return f"list({value}) FILTER (WHERE {present})"
    raise ValueError(f"unknown trait kind {trait.kind!r}")


def compile_traits(
    traits: list[TraitDefinition], as_of: datetime, events: str = "person_events"
) -> CompiledTraits:
    """The one query computing `traits` per person from `events` (a relation with person_events'
    columns), and the profile's projection of its columns."""
    at = lake.timestamp_literal(as_of)
    aggregates = "".join(f",\n                   {trait_expression(t, at)} AS {t.name}" for t in traits)
    finished = "".join(
        f", {_FROM_LIST[t.kind].format(c=t.name)} AS {t.name}" if t.kind in _FROM_LIST else f", {t.name}"
        for t in traits
    )
    sql = f"""
        SELECT customer_id, {LAST_EVENT}{finished}
        FROM (
            SELECT customer_id, max(timestamp) AS {LAST_EVENT}{aggregates}
            FROM {events}
            WHERE customer_id IS NOT NULL AND timestamp <= {at}
            GROUP BY customer_id
        )
    """
    columns = "".join(
        f", coalesce(tr.{t.name}, 0)::BIGINT AS {t.name}" if t.kind in _ZERO_WHEN_NONE else f", tr.{t.name}"
        for t in traits
    )
    return CompiledTraits(sql, columns)
