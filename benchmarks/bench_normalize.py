"""Throughput of identifier normalization over Parquet in DuckDB: `python benchmarks/bench_normalize.py`."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import pandas as pd

from uds_pipelines.lib.lake import duckdb_connection, files_relation, write_parquet_atomic
from uds_pipelines.lib.normalize import normalize_email, normalize_phone, register_duckdb_udfs

PHONE_FORMATS = {
    "US": lambda r: f"({r.randint(201, 989)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}",
    "GB": lambda r: f"+44 (0)20 7{r.randint(0, 999):03d} {r.randint(0, 9999):04d}",
    "DE": lambda r: f"030 {r.randint(1000000, 9999999)}",
    "FR": lambda r: f"06 {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)}",
    "BR": lambda r: f"(11) 9{r.randint(1000, 9999)}-{r.randint(1000, 9999)}",
}
# Mostly plain ASCII like real customer lists, with a share of Unicode that takes the validator path.
DOMAINS = ["gmail.com", "Yahoo.com", "outlook.com", "example.de", "firma.co.uk"] * 10 + ["bücher.de"]
LOCALS = ["Jane", "john", "a.b", "mary-ann"] * 10 + ["Zoë"]


def make_data(rows: int, unique: int, seed: int = 11) -> pd.DataFrame:
    """`rows` records drawn from `unique` distinct people, as real exports repeat identifiers."""
    rng = random.Random(seed)
    people = []
    for i in range(unique):
        country = rng.choice(list(PHONE_FORMATS))
        local = f"{rng.choice(LOCALS)}.{i}{rng.choice(['', '+news', ''])}"
        email = f" {local}@{rng.choice(DOMAINS)}" if i % 50 else f"broken{i}@"
        people.append((PHONE_FORMATS[country](rng), country, email))
    picks = [people[rng.randrange(unique)] for _ in range(rows)]
    return pd.DataFrame(picks, columns=["phone", "country", "email"])


def timed(label: str, rows: int, run) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"{label:<44} {rows:>9,} rows {seconds:7.2f} s wall {cpu:7.2f} s cpu {rows / seconds:>10,.0f} rows/s"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--unique", type=int, default=200_000, help="distinct people among the rows")
    args = parser.parse_args()
    frame = make_data(args.rows, args.unique)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_parquet_atomic(frame, Path(tmp) / "people.parquet")
        con = duckdb_connection()
        register_duckdb_udfs(con)
        src = files_relation([path])  # a scratch file, not a catalog table
        for fn in (normalize_email, normalize_phone):
            fn.cache_clear()
        timed(
            "SQL uds_email_norm + uds_email_key",
            args.rows,
            lambda: con.execute(
                f"SELECT count(uds_email_norm(email)), count(uds_email_key(email)) FROM {src}"
            ).fetchall(),
        )
        timed(
            "SQL uds_phone_e164 (cold cache)",
            args.rows,
            lambda: con.execute(f"SELECT count(uds_phone_e164(phone, country)) FROM {src}").fetchall(),
        )
        timed(
            "SQL uds_phone_e164 (warm cache)",
            args.rows,
            lambda: con.execute(f"SELECT count(uds_phone_e164(phone, country)) FROM {src}").fetchall(),
        )
        sample = frame.drop_duplicates("phone").head(20_000)
        normalize_phone.cache_clear()
        timed(
            "python normalize_phone, distinct values",
            len(sample),
            lambda: [normalize_phone(p, c) for p, c in zip(sample.phone, sample.country, strict=True)],
        )
        normalize_email.cache_clear()
        timed(
            "python normalize_email, distinct values",
            len(sample),
            lambda: [normalize_email(e) for e in sample.email],
        )
        con.close()


if __name__ == "__main__":
    main()
