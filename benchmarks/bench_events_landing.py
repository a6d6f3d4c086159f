"""Benchmark: land N Segment-format events through the stage the `landed_events` asset runs (lock,
claims, one DuckDB batch, tracking plan, day folders, ledger, conservation recount) vs a bare
DuckDB read_json -> Parquet copy of the same JSONL files. Target (issue 18): within 2x.

    python benchmarks/bench_events_landing.py --events 1000000
    uds-generate --people 50000 --seed 1 --out /tmp/gen --sessions 2000000   # realistic sessions
    python benchmarks/bench_events_landing.py --jsonl-dir /tmp/gen/inbox/events
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVENTS_PER_FILE = 100_000
TARGET_RATIO = 2.0
_BASE = 1_796_000_000  # 2026-11-29, events spread over about a week

# What analytics.js sends (segment.com/docs/connections/spec/common/), compact.
_CONTEXT = (
    '"context":{{"ip":"203.0.113.{ip}","library":{{"name":"analytics.js","version":"next-1.64.0"}},'
    '"locale":"en-US","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 '
    '(KHTML, like Gecko) Chrome/120.0 Safari/537.36","page":{{"path":"/p/{p}","referrer":"https://www.google.com/",'
    '"title":"Product {p}","url":"https://shop.example.com/p/{p}"}},"campaign":{{"source":"google",'
    '"medium":"cpc","name":"winter_sale","term":"boots","content":"ad{c}"}}}}'
)
_KINDS = (
    ('"type":"page","name":"Product","properties":{{"path":"/p/{p}","url":"https://shop.example.com/p/{p}"}}'),
    ('"type":"page","name":"Home","properties":{{"path":"/","url":"https://shop.example.com/"}}'),
    ('"type":"track","event":"Product Viewed","properties":{{"product_id":"{p}","price":19.99}}'),
    (
        '"type":"track","event":"Product Added","properties":{{"cart_id":"c{u}","product_id":"{p}",'
        '"sku":"SKU-{p}","name":"Boot {p}","price":19.99,"quantity":1}}'
    ),
    (
        '"type":"track","event":"Order Completed","properties":{{"order_id":"o{n}","total":27.5,'
        '"revenue":25.0,"currency":"USD","products":[{{"product_id":"{p}","price":19.99,"quantity":1}}]}}'
    ),
    ('"type":"identify","traits":{{"email":"user{u}@example.com","name":"User {u}","plan":"free"}}'),
)


def write_events(out_dir: Path, events: int) -> list[Path]:
    """`events` messages as JSONL in `out_dir` (cached: reused when already there)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    done = out_dir / "COMPLETE"
    files = sorted(out_dir.glob("events_*.jsonl"))
    if done.exists() and done.read_text() == str(events):
        return files
    for old in files:
        old.unlink()
    for start in range(0, events, EVENTS_PER_FILE):
        path = out_dir / f"events_{start // EVENTS_PER_FILE:04d}.jsonl"
        with open(path, "w", encoding="utf-8") as handle:
            for n in range(start, min(events, start + EVENTS_PER_FILE)):
                u, p = n // 20, n % 997
                ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(_BASE + n // 2))
                body = _KINDS[n % len(_KINDS)].format(n=n, u=u, p=p)
                handle.write(
                    f'{{{body},"messageId":"ajs-{n:012d}","anonymousId":"anon-{u}","userId":"user-{u}",'
                    f'"timestamp":"{ts}","sentAt":"{ts}","originalTimestamp":"{ts}","receivedAt":"{ts}",'
                    f'{_CONTEXT.format(ip=n % 250, p=p, c=n % 7)},"source":"web"}}\n'
                )
        files.append(path)
    done.write_text(str(events))
    return sorted(out_dir.glob("events_*.jsonl"))


def _lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))


def _stage_land(files: list[str], work: str) -> dict:
    from uds_pipelines.lib.config import Settings
    from uds_pipelines.lib.ingest.events.stage import land_events

    data_dir = Path(work) / "data"
    inbox = data_dir / "inbox" / "events"
    inbox.mkdir(parents=True)
    for f in files:  # hard links: landing removes inbox files, the cache keeps its copy
        os.link(f, inbox / Path(f).name)
    settings = Settings.from_env({"UDS_DATA_DIR": str(data_dir), "HOME": os.environ["HOME"]})
    stage = land_events(settings)
    assert stage.violations.empty, stage.violations
    return {"landed": stage.summary.records_landed, "quarantined": stage.summary.records_quarantined}


def _stage_bare(files: list[str], work: str) -> dict:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET memory_limit='2GB'")
    file_list = ", ".join(f"'{f}'" for f in files)
    out = Path(work) / "bare.parquet"
    con.execute(
        f"COPY (SELECT * FROM read_json([{file_list}], format='newline_delimited')) "
        f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
    )
    return {"rows": con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]}


def _child(stage: str, files: list[str], work: str) -> None:
    # The clock starts after the imports: the asset runs in a code location that has them loaded.
    import duckdb  # noqa: F401

    if stage == "land":
        import uds_pipelines.lib.ingest.events.stage  # noqa: F401
    started = time.perf_counter()
    info = (_stage_land if stage == "land" else _stage_bare)(files, work)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"stage": stage, "seconds": seconds, "cpu_seconds": cpu, "peak_rss": usage.ru_maxrss * 1024, **info}))


def _run_stage(stage: str, files: list[Path], work: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", stage, "--work", str(work), *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "uds_bench_events")
    parser.add_argument(
        "--jsonl-dir", type=Path, help="land the *.jsonl files there (e.g. uds-generate --sessions) instead"
    )
    parser.add_argument("--child", choices=["land", "bare"])
    parser.add_argument("--work", type=Path)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.files, str(args.work))
        return 0
    t0 = time.perf_counter()
    if args.jsonl_dir:
        files = sorted(args.jsonl_dir.glob("*.jsonl"))
        args.events = sum(_lines(f) for f in files)
    else:
        files = write_events(args.cache_dir / f"n{args.events}", args.events)
    size = sum(f.stat().st_size for f in files)
    print(f"input: {args.events} events, {len(files)} files, {size / 1e6:.0f} MB ({time.perf_counter() - t0:.1f}s)")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="uds_bench_") as work:
        bare = _run_stage("bare", files, Path(work))
        land = _run_stage("land", files, Path(work))
    for row in (bare, land):
        print(
            f"{row['stage']:>5}: {row['seconds']:7.2f}s wall, {row['cpu_seconds']:7.2f}s CPU, "
            f"{args.events / row['seconds']:10,.0f} events/s, peak RSS {row['peak_rss'] / 2**20:6.0f} MiB"
        )
    print(f"landed={land['landed']} quarantined={land['quarantined']} bare_rows={bare['rows']}")
    ratio = land["seconds"] / bare["seconds"]
    cpu_ratio = land["cpu_seconds"] / bare["cpu_seconds"]
    verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
    print(f"ratio land/bare = {ratio:.2f} wall, {cpu_ratio:.2f} CPU (target <= {TARGET_RATIO}): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
