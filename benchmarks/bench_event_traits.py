"""Events identity and computed traits at scale: `python benchmarks/bench_event_traits.py [--events 1000000]`.

Writes synthetic landed events straight into a temporary lake (one DuckDB COPY into the day
folders; a tenth as many userIds as events, a fifth as many anonymous ids, each tied to one
user, 5% identify calls with an email), then times the stages that read them: identity inputs
(user records and anonymous links), identity resolution, profiles without and with the shipped
traits, the compiled traits query alone, the funnels, and identity inputs again with nothing new.
Time only: the ground truth of identity and traits is the tests' business.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from uds_pipelines.lib import catalog, connection
from uds_pipelines.lib.config import CONFIG_DIR, Settings
from uds_pipelines.lib.consent.stage import build_consent
from uds_pipelines.lib.identity.stage import build_inputs, resolve
from uds_pipelines.lib.profiles.funnels import build_funnels
from uds_pipelines.lib.profiles.stage import build_profiles
from uds_pipelines.lib.profiles.traits import load_traits
from uds_pipelines.lib.profiles.traits_sql import compile_traits

AS_OF = "2026-12-01T00:00:00Z"
_EVENTS = "['Product Viewed', 'Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed']"


def write_events(lake_dir: Path, n: int) -> None:
    """`n` landed events over November 2026, in the catalog's columns and day folders."""
    table = catalog.table("events")
    folder = catalog.path(lake_dir, "events")
    folder.mkdir(parents=True)
    values = {
        "message_id": "'m' || i",
        "type": "CASE WHEN i % 20 = 0 THEN 'identify' WHEN i % 7 = 0 THEN 'page' ELSE 'track' END",
        "event": f"CASE WHEN i % 20 = 0 OR i % 7 = 0 THEN NULL ELSE {_EVENTS}[1 + (i * 7919 % 5)] END",
        "user_id": f"CASE WHEN (i // 3) % 2 = 0 THEN 'u' || (i % {max(n // 10, 1)}) END",
        "anonymous_id": f"'a' || (i % {max(n // 5, 1)})",
        "timestamp": "TIMESTAMPTZ '2026-11-01' + INTERVAL (i % 2592000) SECOND",
        "received_at": "TIMESTAMPTZ '2026-11-01' + INTERVAL (i % 2592000) SECOND",
        "properties": '\'{"revenue": \' || (i % 100) || \', "category": "c\' || (i % 13) || '
        '\'", "product_id": "p\' || (i % 500) || \'"}\'',
        "traits": f"CASE WHEN i % 20 = 0 THEN '{{\"email\": \"user' || (i % {max(n // 10, 1)}) || '@mail.io\"}}' END",
        "context": "'{}'",
        "source": "'web'",
        "source_file": "'bench.jsonl'",
        "position": "i",
        "landed_at": "now()",
    }
    columns = ", ".join(
        f"CAST({values.get(c, 'NULL')} AS {catalog.duckdb_type(table.arrow_type(c))}) AS {c}"
        for c in table.columns
    )
    con = connection.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        con.execute(
            f"COPY (SELECT *, CAST(timestamp AS DATE) AS day FROM (SELECT {columns} FROM range({n}) r(i))) "
            f"TO '{folder}' (FORMAT parquet, PARTITION_BY (day), FILENAME_PATTERN 'events-bench{{i}}')"
        )
    finally:
        con.close()


def timed(label: str, step) -> None:
    started = time.perf_counter()
    step()
    print(f"{label:<55} {time.perf_counter() - started:7.2f} s", flush=True)


def traits_query(settings: Settings) -> None:
    traits, _funnels, _errors = load_traits(settings.traits_file)
    con = connection.for_settings(settings)
    try:
        con.execute(f"CREATE TEMP TABLE _t AS {compile_traits(traits, settings.as_of()).sql}")
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-traits-"))
    try:
        base = {"UDS_DATA_DIR": str(root / "data"), "UDS_AS_OF": AS_OF}
        (root / "none.yaml").write_text("traits: []\n")
        settings = Settings.from_env(base)
        plain = Settings.from_env(base | {"UDS_TRAITS_FILE": str(root / "none.yaml")})
        timed(f"write {args.events:,} events", lambda: write_events(settings.lake_dir, args.events))
        timed("identity inputs (user records, anonymous links)", lambda: build_inputs(settings))
        timed("identity resolution", lambda: resolve(settings, "bench"))
        timed("consent", lambda: build_consent(settings))
        timed("profiles without traits", lambda: build_profiles(plain))
        shipped = len(load_traits(CONFIG_DIR / "traits.yaml")[0])
        timed(f"profiles with the {shipped} shipped traits", lambda: build_profiles(settings))
        timed("the compiled traits query alone", lambda: traits_query(settings))
        timed("event funnels", lambda: build_funnels(settings))
        timed("identity inputs again, nothing new", lambda: build_inputs(settings))
        print(f"as of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
