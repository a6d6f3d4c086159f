"""`generate()`: plan who appears where and when, write every source's inbox files and the ground truth."""

from __future__ import annotations

import os
import random
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from uds_pipelines.lib.generator.forms import write_forms
from uds_pipelines.lib.generator.ids import FastRandom, sid
from uds_pipelines.lib.generator.people import Person, make_people, people_table
from uds_pipelines.lib.generator.privacy import write_privacy
from uds_pipelines.lib.generator.sessions import write_sessions
from uds_pipelines.lib.generator.stripe_events import CustomerPlan
from uds_pipelines.lib.generator.stripe_files import UNIQUE_PER_CHUNK, ChunkJob, ChunkResult, build_chunk
from uds_pipelines.lib.generator.surveys import write_surveys
from uds_pipelines.lib.generator.truth import Truth, totals_table
from uds_pipelines.lib.generator.writer import Inbox, write_parquet

DEFAULT_START = date(2025, 1, 1)
DEFAULT_END = date(2026, 11, 1)
EVENTS_PER_PERSON = 8
DAY = 86400


@dataclass
class GenerationSummary:
    out_dir: Path
    people: int
    counts: dict[str, int]  # records per ground-truth source, duplicates and malformed included
    stripe_unique_events: int
    files_written: int
    seconds: float
    expected: dict[str, int] = field(default_factory=dict)  # land / quarantine / duplicate totals
    events: int = 0  # behavioural events of the sessions (`sessions=`)
    events_seconds: float = 0.0  # time spent generating them
    events_cpu_seconds: float = 0.0


def _ts(value: date | datetime | str) -> int:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _assign_sources(rng: random.Random, people: list[Person]) -> None:
    for p in people:
        for source, share in (("stripe", 0.72), ("forms", 0.55), ("surveys", 0.35)):
            if rng.random() < share:
                p.sources.add(source)
        if not p.sources:
            p.sources.add(rng.choice(["stripe", "forms", "surveys"]))


def _stripe_plans(
    rng: random.Random, people: list[Person], first: dict[str, int], events: int
) -> list[CustomerPlan]:
    plans = []
    for p in people:
        if "stripe" in p.sources:
            for _ in range(2 if rng.random() < 0.05 else 1):
                plans.append(
                    CustomerPlan(sid(rng, "cus_", 15), p, 1, first[p.person_id] + rng.randint(0, 30 * DAY))
                )
    plans = plans[:events]
    if not plans:
        return plans
    weights = [rng.expovariate(1.0) + 0.2 for _ in plans]
    total = sum(weights)
    extra = events - len(plans)
    for plan, w in zip(plans, weights, strict=True):
        plan.budget = 1 + int(extra * w / total)
    short = events - sum(plan.budget for plan in plans)
    for i in range(short):
        plans[i % len(plans)].budget += 1
    return plans


def _chunk_jobs(seed: int, plans: list[CustomerPlan], end_ts: int, out_dir: Path) -> list[ChunkJob]:
    jobs: list[ChunkJob] = []
    current: list[CustomerPlan] = []
    size = 0
    for plan in plans:
        if current and size + plan.budget > UNIQUE_PER_CHUNK:
            jobs.append(ChunkJob(len(jobs), seed * 1_000_003 + len(jobs), current, end_ts, out_dir, not jobs))
            current, size = [], 0
        current.append(plan)
        size += plan.budget
    if current:
        jobs.append(ChunkJob(len(jobs), seed * 1_000_003 + len(jobs), current, end_ts, out_dir, not jobs))
    return jobs


class _Chunks:
    """Stripe chunks run in worker processes while the main process writes the other sources."""

    def __init__(self, jobs: list[ChunkJob], workers: int | None) -> None:
        workers = min(len(jobs), workers or os.cpu_count() or 1)
        self.pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
        if self.pool is None:
            self.results = [build_chunk(job) for job in jobs]
        else:
            self.futures = [self.pool.submit(build_chunk, job) for job in jobs]

    def cancel(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def wait(self) -> list[ChunkResult]:
        if self.pool is not None:
            try:
                self.results = [future.result() for future in self.futures]
            finally:
                self.pool.shutdown()
        return self.results


def _write_other_sources(
    rng: random.Random,
    inbox: Inbox,
    truth: Truth,
    persons: list[Person],
    first: dict[str, int],
    end_ts: int,
    customer_ids: dict[str, list[str]],
) -> None:
    """Surveys, forms (with opt-in then withdrawal) and privacy requests, timed after each person's first visit."""

    def later(p: Person, lo: float = 0.0) -> int:
        base = first[p.person_id]
        return rng.randint(base + int((end_ts - base) * lo), end_ts - 60)

    respondents = [
        (p, later(p)) for p in persons if "surveys" in p.sources for _ in range(1 + (rng.random() < 0.1))
    ]
    write_surveys(rng, inbox, truth, respondents)

    form_plan: list[tuple[Person, int, bool | None]] = []
    for p in persons:
        if "forms" not in p.sources:
            continue
        if rng.random() < 0.1:
            # Opt in, then withdraw later through another form.
            t1 = later(p)
            form_plan += [(p, t1, True), (p, rng.randint(t1 + 60, max(t1 + 61, end_ts - 30)), False)]
        form_plan += [(p, later(p), None) for _ in range(rng.choices([1, 2, 3], [6, 3, 1])[0])]
    write_forms(rng, inbox, truth, form_plan)

    requests: list[tuple[str, Person, int]] = []
    for p in persons:
        if p.erased:
            requests.append(("erasure", p, later(p, 0.8)))
        roll = rng.random()
        if roll < 0.02:
            requests.append(("access", p, later(p, 0.5)))
        elif roll < 0.06:
            requests.append(("consent", p, later(p, 0.5)))
    write_privacy(rng, inbox, truth, requests, customer_ids)


def generate(
    out_dir: Path,
    people: int,
    seed: int,
    stripe_events: int | None = None,
    start: date | datetime | str = DEFAULT_START,
    end: date | datetime | str = DEFAULT_END,
    workers: int | None = None,
    sessions: int = 0,
) -> GenerationSummary:
    """Write inbox files for every source under `out_dir/inbox/` and ground truth under `out_dir/ground_truth/`.

    Output depends only on the arguments (not on `workers`): the same seed gives byte-identical files.
    `sessions` > 0 adds about that many behavioural event sessions (`sessions.py`) under
    `inbox/events/`; every other file is the same with or without them.
    """
    began = time.perf_counter()
    out_dir = Path(out_dir)
    start_ts, end_ts = _ts(start), _ts(end)
    if people < 1:
        raise ValueError("people must be at least 1")
    if end_ts <= start_ts + 30 * DAY:
        raise ValueError("end must be at least 30 days after start")
    rng = FastRandom(seed)
    start_date = datetime.fromtimestamp(start_ts, tz=UTC).date()
    persons = make_people(rng, people, start_date)
    _assign_sources(rng, persons)
    span = end_ts - start_ts
    first = {p.person_id: start_ts + rng.randint(0, int(span * 0.85)) for p in persons}
    inbox = Inbox(out_dir)
    truth = Truth()
    others = Truth()

    events = EVENTS_PER_PERSON * people if stripe_events is None else stripe_events
    plans = _stripe_plans(rng, persons, first, events)
    chunks = _Chunks(_chunk_jobs(seed, plans, end_ts, out_dir), workers)
    customer_ids: dict[str, list[str]] = {}
    for plan in plans:
        customer_ids.setdefault(plan.person.person_id, []).append(plan.customer_id)

    try:
        _write_other_sources(rng, inbox, others, persons, first, end_ts, customer_ids)
    except BaseException:
        chunks.cancel()
        raise
    results = chunks.wait()
    files = 0
    totals: dict[tuple[str, str], list[int]] = {}
    for result in results:
        truth.extend(result.truth)
        files += len(result.files)
        for key, tally in result.totals.items():
            merged = totals.setdefault(key, [0, 0, 0])
            for i, value in enumerate(tally):
                merged[i] += value
    truth.extend(others)

    truth_dir = out_dir / "ground_truth"
    if sessions > 0:
        events, session_truth = write_sessions(inbox, persons, first, end_ts, seed, sessions)
        write_parquet(session_truth.event_people(), truth_dir / "event_people.parquet")
        write_parquet(session_truth.abandoners(persons), truth_dir / "cart_abandoners.parquet")
    shutil.rmtree(out_dir / ".incoming", ignore_errors=True)
    write_parquet(people_table(persons), truth_dir / "people.parquet")
    records = truth.records_table()
    write_parquet(records, truth_dir / "records.parquet")
    write_parquet(truth.consents_table(), truth_dir / "consents.parquet")
    write_parquet(totals_table(totals), truth_dir / "stripe_totals.parquet")

    counts: dict[str, int] = {}
    expected: dict[str, int] = {}
    for source, exp in zip(truth.records["source"], truth.records["expected"], strict=True):
        counts[source] = counts.get(source, 0) + 1
        expected[exp] = expected.get(exp, 0) + 1
    return GenerationSummary(
        out_dir=out_dir,
        people=people,
        counts=counts,
        stripe_unique_events=sum(r.unique_events for r in results),
        files_written=files + len(inbox.files_written) + 4,
        seconds=round(time.perf_counter() - began, 3),
        expected=expected,
        events=events.events if sessions > 0 else 0,
        events_seconds=round(events.seconds, 3) if sessions > 0 else 0.0,
        events_cpu_seconds=round(events.cpu_seconds, 3) if sessions > 0 else 0.0,
    )
