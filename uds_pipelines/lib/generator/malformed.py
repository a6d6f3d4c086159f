"""Malformed records of the kinds real feeds deliver, each with a note saying what is wrong."""

from __future__ import annotations

import json
import random

from uds_pipelines.lib.generator.ids import sid

STRIPE_KINDS = ["truncated", "created_string", "missing_id", "missing_data_object", "json_array"]

NOTES = {
    "truncated": "truncated JSON",
    "created_string": "wrong type: created is a string",
    "missing_id": "event without id",
    "missing_data_object": "event without data.object",
    "json_array": "JSON array where an object is expected",
}


def corrupt_event_line(rng: random.Random, line: str, kind: str) -> tuple[str, str, str | None]:
    """A broken copy of an event line under a fresh event id: (text, note, record id if it has one)."""
    event = json.loads(line)
    event["id"] = sid(rng, "evt_")
    record_id: str | None = event["id"]
    if kind == "truncated":
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        text = text[: int(len(text) * rng.uniform(0.3, 0.8))]
    elif kind == "created_string":
        event["created"] = rng.choice(["yesterday", "2025-13-45", "not a timestamp"])
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    elif kind == "missing_id":
        del event["id"]
        record_id = None
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    elif kind == "missing_data_object":
        event["data"] = {}
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    elif kind == "json_array":
        text = "[" + json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "]"
    else:
        raise ValueError(f"unknown malformation kind {kind}")
    return text, NOTES[kind], record_id


def invalid_utf8_line(rng: random.Random) -> bytes:
    """Bytes that are not UTF-8 at all (Latin-1 text and stray continuation bytes)."""
    return b'{"id": \xc3\x28 caf\xe9 \x80\x81' + bytes([0x80 + rng.randrange(64) for _ in range(8)])


def ragged_row(rng: random.Random, row: list[str]) -> tuple[list[str], str]:
    """A CSV row with too many or too few fields."""
    if rng.random() < 0.5:
        return row + ["unexpected", "extra"], "ragged row: too many fields"
    return row[: max(1, len(row) // 2)], "ragged row: too few fields"


def truncated_json(text: str, rng: random.Random) -> str:
    return text[: int(len(text) * rng.uniform(0.3, 0.7))]
