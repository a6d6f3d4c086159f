"""Stripe inbox files: chunks of customers to JSONL with duplicates, late deliveries and malformed lines."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from uds_pipelines.lib.generator.ids import FastRandom
from uds_pipelines.lib.generator.malformed import STRIPE_KINDS, corrupt_event_line, invalid_utf8_line
from uds_pipelines.lib.generator.pools import is_junk_email
from uds_pipelines.lib.generator.stripe_events import CustomerPlan, Event, customer_events
from uds_pipelines.lib.generator.truth import DUPLICATE, LAND, QUARANTINE, Truth
from uds_pipelines.lib.generator.writer import Inbox

DUPLICATE_SHARE = 0.03
MALFORMED_SHARE = 0.01
LATE_CREATED_SHARE = 0.05  # customers whose customer.created arrives in the redelivery file
MAX_EVENTS_PER_FILE = 100_000
UNIQUE_PER_CHUNK = int(MAX_EVENTS_PER_FILE / (1 + DUPLICATE_SHARE + MALFORMED_SHARE)) - 10


@dataclass
class ChunkJob:
    index: int
    seed: int
    plans: list[CustomerPlan]
    end_ts: int
    out_dir: Path
    extras: bool  # the first chunk also writes single-event files, a list object and a corrupt file


@dataclass
class ChunkResult:
    truth: Truth = field(default_factory=Truth)
    files: list[str] = field(default_factory=list)
    unique_events: int = 0
    lines: int = 0
    # (person_id, currency) -> [charges, charged minor units, refunded minor units]
    totals: dict[tuple[str, str], list[int]] = field(default_factory=dict)


@dataclass
class _Line:
    key: float
    text: str
    event: Event | None
    expected: str
    note: str
    record_id: str | None = None
    person_id: str | None = None


def build_chunk(job: ChunkJob) -> ChunkResult:
    """Generate and write one chunk; pure function of the job, so chunks can run in parallel."""
    rng = FastRandom(job.seed)
    inbox = Inbox(job.out_dir)
    result = ChunkResult()
    events: list[Event] = []
    for plan in job.plans:
        events.extend(customer_events(rng, plan, job.end_ts))
    events.sort(key=lambda e: (e.created, e.event_id))
    result.unique_events = len(events)
    for e in events:
        if e.money is not None:
            currency, charged, refunded = e.money
            tally = result.totals.setdefault((e.person_id, currency), [0, 0, 0])
            tally[0] += 1 if charged else 0
            tally[1] += charged
            tally[2] += refunded

    # Pull some events out for *.json files first so they are never duplicated.
    singles: list[Event] = []
    listed: list[Event] = []
    corrupt_good: list[Event] = []
    if job.extras and len(events) > 100:
        picks = rng.sample(range(len(events)), k=min(len(events) // 10, 10 + 40 + 4))
        chosen = [events[i] for i in picks]
        singles, listed, corrupt_good = chosen[:10], chosen[10:50], chosen[50:]
        taken = set(picks)
        events = [e for i, e in enumerate(events) if i not in taken]

    late_ids = {
        e.event_id for e in events if e.etype == "customer.created" and rng.random() < LATE_CREATED_SHARE
    }
    main: list[_Line] = []
    late: list[_Line] = []
    for i, e in enumerate(events):
        (late if e.event_id in late_ids else main).append(
            _Line(i, e.line, e, LAND, "late delivery" if e.event_id in late_ids else "")
        )
    n = len(main)
    for i in rng.sample(range(n), k=min(n, round(n * DUPLICATE_SHARE))):
        original = main[i]
        copy = _Line(
            rng.uniform(original.key + 0.5, n + 1),
            original.text,
            original.event,
            DUPLICATE,
            "duplicate delivery",
        )
        (main if rng.random() < 0.5 else late).append(copy)
    kinds = STRIPE_KINDS
    for j in range(round(len(events) * MALFORMED_SHARE)):
        base = rng.choice(events)
        text, note, record_id = corrupt_event_line(rng, base.line, kinds[j % len(kinds)])
        main.append(_Line(rng.uniform(0, n), text, None, QUARANTINE, note, record_id, base.person_id))
    main.sort(key=lambda line: line.key)
    late.sort(key=lambda line: line.key)

    suffix = f"{job.index:04d}"
    _write_jsonl(inbox, result, f"stripe/events_{suffix}.jsonl", main)
    if late:
        _write_jsonl(inbox, result, f"stripe/redelivery_{suffix}.jsonl", late)
    for e in singles:
        rel = f"stripe/{e.event_id}.json"
        inbox.write_text(rel, json.dumps(json.loads(e.line), ensure_ascii=False, indent=2) + "\n")
        _record(result, rel, 1, _Line(0, e.line, e, LAND, "single event file"))
        result.files.append(rel)
    if listed:
        rel = f"stripe/events_list_{suffix}.json"
        body = {
            "object": "list",
            "data": [json.loads(e.line) for e in listed],
            "has_more": False,
            "url": "/v1/events",
        }
        inbox.write_text(rel, json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n")
        for pos, e in enumerate(listed, start=1):
            _record(result, rel, pos, _Line(0, e.line, e, LAND, "list object"))
        result.files.append(rel)
    if corrupt_good:
        _write_corrupt(rng, inbox, result, f"stripe/events_corrupt_{suffix}.jsonl", corrupt_good)
    return result


def _write_jsonl(inbox: Inbox, result: ChunkResult, rel: str, lines: list[_Line]) -> None:
    parts: list[bytes] = []
    for pos, line in enumerate(lines, start=1):
        parts.append(line.text.encode("utf-8") + b"\n")
        _record(result, rel, pos, line)
    inbox.write_bytes(rel, parts)
    result.files.append(rel)
    result.lines += len(lines)


def _write_corrupt(
    rng: random.Random, inbox: Inbox, result: ChunkResult, rel: str, good: list[Event]
) -> None:
    """A file mixing good events (ASCII-escaped) with a line of invalid UTF-8 bytes."""
    lines: list[tuple[bytes, _Line]] = []
    for e in good:
        text = json.dumps(json.loads(e.line), ensure_ascii=True, separators=(",", ":"))
        lines.append((text.encode("ascii"), _Line(0, text, e, LAND, "good line next to invalid UTF-8")))
    bad = _Line(0, "", None, QUARANTINE, "invalid utf-8 line")
    lines.insert(rng.randint(1, len(lines)), (invalid_utf8_line(rng), bad))
    for pos, (_, line) in enumerate(lines, start=1):
        _record(result, rel, pos, line)
    inbox.write_bytes(rel, [data + b"\n" for data, _ in lines])
    result.files.append(rel)
    result.lines += len(lines)


def _record(result: ChunkResult, rel: str, pos: int, line: _Line) -> None:
    file = rel
    e = line.event
    if e is None:
        result.truth.record(
            "stripe_event", line.record_id, line.person_id, file, pos, line.expected, line.note
        )
        return
    result.truth.record("stripe_event", e.event_id, e.person_id, file, pos, line.expected, line.note)
    if line.expected != LAND:
        return
    if e.etype == "customer.created":
        result.truth.record("stripe_customer", e.customer_id, e.person_id, file, pos, LAND, "customer")
    if e.consent is not None and not is_junk_email(e.consent[0]):
        email, granted, ts = e.consent
        at = datetime.fromtimestamp(ts, tz=UTC)
        result.truth.consent(
            e.person_id, "email", email, "email_marketing", granted, at, "stripe", e.event_id, file
        )
