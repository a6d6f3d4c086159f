"""Identity resolution speed on synthetic identifiers: 1M people (~5M identifier rows) in seconds.

The project generator at 1M people means 10M Stripe events and about 10 minutes of generation plus
landing, so the speed figure uses this SQL generator instead (a few seconds for 1M people). Its
people and noise are home-made: use it for time and memory only, never for accuracy.

`python benchmarks/_identity_speed.py synth OUT PEOPLE` and `... resolve IDENTIFIERS OUT_DIR MEMORY
[PREVIOUS_DIR]` are the children `measure_speed` runs, one per step, for each step's own peak RSS.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CACHE_DIR, emit_result, run_measured  # noqa: E402

# One row per identifier of a record: person p has 1-3 records; the first is a Stripe customer for
# half the people. Identifiers: own record id, the person's email on 85% of records (10% of people use
# a second email on some), phone on 40%, stripe_customer on the Stripe record and on 20% of that
# person's other records. Noise: 0.5% of records give test@test.com, 0.3% a 555 placeholder phone,
# 0.5% a shared office inbox (10 inboxes, each far over the size guardrail), and 2% of people share a
# household phone with the next person.
SYNTH_SQL = """
WITH people AS (SELECT range AS p, 1 + hash(range, 'n') % 3 AS n_rec FROM range({n})),
recs AS (
    SELECT p, k, hash(p, k, 'r') % 1000 AS u1, hash(p, k, 's') % 1000 AS u2, hash(p, 'x') % 1000 AS up,
           CASE WHEN k = 0 AND p % 2 = 0 THEN 'stripe' WHEN k % 2 = 1 THEN 'form' ELSE 'survey' END AS source
    FROM people, range(3) t(k) WHERE k < n_rec
),
keyed AS (
    SELECT *, CASE WHEN source = 'stripe' THEN 'cus_' || p ELSE source || '_' || p || '_' || k END AS record_id
    FROM recs
)
SELECT p AS person, source, record_id, 'record' AS id_type, source || ':' || record_id AS id_value FROM keyed
UNION ALL
SELECT p, source, record_id, 'email',
       CASE WHEN u1 < 5 THEN 'test@test.com'
            WHEN u1 < 10 THEN 'info@office' || (p % 10) || '.com'
            WHEN up < 100 AND k = 2 THEN 'alt' || p || '@mail' || (p % 97) || '.org'
            ELSE 'user' || p || '@mail' || (p % 97) || '.com' END
FROM keyed WHERE u1 < 850
UNION ALL
SELECT p, source, record_id, 'phone',
       CASE WHEN u2 < 3 THEN '+15555555555'
            WHEN up >= 980 AND p % 2 = 0 THEN '+1' || (2125550000 + p + 1)
            ELSE '+1' || (2125550000 + p) END
FROM keyed WHERE u2 < 400
UNION ALL
SELECT p, source, record_id, 'stripe_customer', 'cus_' || p
FROM keyed WHERE p % 2 = 0 AND (source = 'stripe' OR u2 >= 800)
"""
SPEED_PY = Path(__file__).resolve()
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def synth_child(out: Path, people: int) -> dict:
    from uds_pipelines.lib.lake import duckdb_connection, files_relation

    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb_connection()
    partial = out.with_suffix(".partial")
    con.execute(f"COPY ({SYNTH_SQL.format(n=int(people))}) TO '{partial}' (FORMAT parquet)")
    rows, records = con.execute(
        f"SELECT count(*), count(DISTINCT (source, record_id)) FROM {files_relation([partial])}"
    ).fetchall()[0]
    con.close()
    os.replace(partial, out)
    return {"people": people, "identifiers": int(rows), "records": int(records)}


def resolve_child(identifiers: Path, out_dir: Path, memory_limit: str, previous: Path | None) -> dict:
    """The stage the identity_map asset runs, on a ready identifiers table in a lake under `out_dir`;
    with `previous` (an earlier run's folder), a re-run with 1% of records erased: carry-over,
    splits, retirement.

    The synthetic file is placed as the lake's `identifiers` file (linked, or a filtered copy): file
    work outside the catalog writers, since it also carries the generator's `person` column and no
    `observed_at`, which resolution does not read. The stage then reads it through its view."""
    from uds_pipelines.lib import catalog
    from uds_pipelines.lib.config import Settings
    from uds_pipelines.lib.identity.stage import resolve
    from uds_pipelines.lib.lake import duckdb_connection, files_relation

    started = time.perf_counter()
    settings = Settings.from_env({"UDS_DATA_DIR": str(out_dir), "UDS_AS_OF": NOW.isoformat(),
                                  "UDS_DUCKDB_MEMORY_LIMIT": memory_limit, "HOME": os.environ["HOME"]})  # fmt: skip
    target = catalog.path(settings.lake_dir, "identifiers")
    target.parent.mkdir(parents=True, exist_ok=True)
    if previous is None:
        os.link(identifiers, target)
    else:
        con = duckdb_connection(memory_limit)
        con.execute(f"COPY (SELECT * FROM {files_relation([identifiers])} WHERE hash(record_id, 'erase') % 100 <> 0) "
                    f"TO '{target}' (FORMAT parquet)")  # fmt: skip
        con.close()
        for name in ("identity_map", "customer_registry"):
            shutil.copy(catalog.path(previous / "lake", name), catalog.path(settings.lake_dir, name))
    stage = resolve(settings, "bench-2" if previous else "bench-1")
    stats = {k: v for k, v in stage.stats.items() if isinstance(v, (int, float, str))}
    return stats | {"resolve_seconds": round(time.perf_counter() - started, 2)}


def measure_speed(people: int, memory_limit: str = "2GB", second_run: bool = False) -> dict:
    """Synthesize (cached) and resolve `people` people, each step in its own measured child."""
    folder = CACHE_DIR / "identity_speed" / str(people)
    identifiers = folder / "identifiers.parquet"
    out: dict = {"people": people, "memory_limit": memory_limit}
    if not identifiers.exists():
        m = run_measured([sys.executable, str(SPEED_PY), "synth", str(identifiers), str(people)])
        if m.returncode != 0:
            raise SystemExit(f"synthesis failed:\n{m.result.get('error')}")
        (folder / "synth.json").write_text(json.dumps(m.as_dict()))
    synth = json.loads((folder / "synth.json").read_text())
    out |= {
        "identifiers": synth["result"]["identifiers"],
        "records": synth["result"]["records"],
        "synth": synth,
    }
    runs = [("run1", None)] + ([("run2", folder / "run1")] if second_run else [])
    for name, previous in runs:
        shutil.rmtree(folder / name, ignore_errors=True)
        argv = [sys.executable, str(SPEED_PY), "resolve", str(identifiers), str(folder / name), memory_limit]
        m = run_measured(argv + ([str(previous)] if previous else []), dict(os.environ, PYTHONHASHSEED="0"))
        if m.returncode != 0:
            raise SystemExit(f"resolution ({name}) failed:\n{m.result.get('error')}")
        out[name] = m.as_dict()
    return out


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "synth":
        emit_result(synth_child(Path(args[0]), int(args[1])))
    else:
        prev = Path(args[3]) if len(args) > 3 else None
        emit_result(resolve_child(Path(args[0]), Path(args[1]), args[2], prev))
