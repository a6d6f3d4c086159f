"""Benchmark: land N Stripe events through the landing stage the asset runs (lock, claims, ledger,
suppression gate) vs a bare DuckDB read_json -> Parquet copy."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVENTS_PER_FILE = 250_000
TARGET_RATIO = 2.0
TARGET_RSS_BYTES = int(1.5 * 1024**3)

# Compact event bodies shaped like the real objects in uds_pipelines_tests/realdata/stripe
# (same fields that staging reads, plus the usual bulk), so bytes per event are realistic.
_CUSTOMER = (
    '{{"id":"{cus}","object":"customer","address":{{"city":"Berlin","country":"DE","line1":"Hauptstr. {n}",'
    '"line2":null,"postal_code":"10115","state":null}},"balance":0,"created":{ts},"currency":"eur",'
    '"default_source":null,"delinquent":false,"description":null,"email":"user{n}@example.com",'
    '"invoice_prefix":"7FE{n4}","invoice_settings":{{"custom_fields":null,"default_payment_method":null,'
    '"footer":null,"rendering_options":null}},"livemode":false,"metadata":{{}},"name":"User {n}",'
    '"next_invoice_sequence":1,"phone":"+4930{n7}","preferred_locales":[],"shipping":null,'
    '"tax_exempt":"none","test_clock":null}}'
)
_CHARGE = (
    '{{"id":"ch_{n}","object":"charge","amount":{amount},"amount_captured":{amount},"amount_refunded":0,'
    '"balance_transaction":"txn_{n}","billing_details":{{"address":{{"city":null,"country":"DE","line1":null,'
    '"line2":null,"postal_code":null,"state":null}},"email":null,"name":null,"phone":null}},"captured":true,'
    '"created":{ts},"currency":"eur","customer":"{cus}","description":null,"disputed":false,'
    '"failure_code":null,"failure_message":null,"fraud_details":{{}},"invoice":"in_{n}","livemode":false,'
    '"metadata":{{}},"outcome":{{"network_status":"approved_by_network","reason":null,"risk_level":"normal",'
    '"risk_score":32,"seller_message":"Payment complete.","type":"authorized"}},"paid":true,'
    '"payment_intent":"pi_{n}","payment_method":"pm_{n}","payment_method_details":{{"card":{{"brand":"visa",'
    '"checks":{{"address_line1_check":null,"address_postal_code_check":null,"cvc_check":"pass"}},'
    '"country":"US","exp_month":8,"exp_year":2030,"fingerprint":"AOB934RVNwzk6xtn","funding":"credit",'
    '"last4":"4242","network":"visa","three_d_secure":null,"wallet":null}},"type":"card"}},'
    '"receipt_email":null,"receipt_url":"https://pay.stripe.com/receipts/{n}","refunded":false,'
    '"refunds":{{"object":"list","data":[],"has_more":false,"url":"/v1/charges/ch_{n}/refunds"}},'
    '"status":"succeeded"}}'
)
_INVOICE = (
    '{{"id":"in_{n}","object":"invoice","amount_due":{amount},"amount_paid":{amount},"amount_remaining":0,'
    '"attempt_count":1,"attempted":true,"billing_reason":"subscription_cycle","charge":"ch_{n}",'
    '"collection_method":"charge_automatically","created":{ts},"currency":"eur","customer":"{cus}",'
    '"customer_email":null,"lines":{{"object":"list","data":[{{"id":"il_{n}","object":"line_item",'
    '"amount":{amount},"currency":"eur","description":"1 x Plan","quantity":1,"period":{{"end":{ts},'
    '"start":{ts}}}}}],"has_more":false}},"livemode":false,"metadata":{{}},"paid":true,"status":"paid",'
    '"status_transitions":{{"finalized_at":{ts},"marked_uncollectible_at":null,"paid_at":{ts},'
    '"voided_at":null}},"subscription":"sub_{n}","subtotal":{amount},"total":{amount}}}'
)
_SUBSCRIPTION = (
    '{{"id":"sub_{n}","object":"subscription","cancel_at_period_end":false,"canceled_at":null,'
    '"collection_method":"charge_automatically","created":{ts},"currency":"eur","customer":"{cus}",'
    '"items":{{"object":"list","data":[{{"id":"si_{n}","object":"subscription_item","quantity":1,'
    '"price":{{"id":"price_1","object":"price","active":true,"currency":"eur","product":"prod_1",'
    '"recurring":{{"interval":"month","interval_count":1,"usage_type":"licensed"}},"type":"recurring",'
    '"unit_amount":{amount}}}}}],"has_more":false}},"livemode":false,"metadata":{{}},"start_date":{ts},'
    '"status":"active"}}'
)
_SESSION = (
    '{{"id":"cs_test_{n}","object":"checkout.session","amount_subtotal":{amount},"amount_total":{amount},'
    '"consent":{{"promotions":"{promo}","terms_of_service":null}},"consent_collection":{{"promotions":"auto"}},'
    '"created":{ts},"currency":"eur","customer":"{cus}","customer_details":{{"address":null,'
    '"email":"user{n}@example.com","name":null,"phone":null,"tax_exempt":"none"}},"livemode":false,'
    '"mode":"payment","payment_intent":"pi_{n}","payment_status":"paid","status":"complete"}}'
)
_KINDS = [
    ("customer.created", _CUSTOMER),
    ("customer.updated", _CUSTOMER),
    ("charge.succeeded", _CHARGE),
    ("invoice.paid", _INVOICE),
    ("customer.subscription.created", _SUBSCRIPTION),
    ("checkout.session.completed", _SESSION),
]


def write_events(out_dir: Path, events: int, seed: int = 7) -> list[Path]:
    """Write `events` JSONL Stripe events into `out_dir` (cached: reused when already there)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    done = out_dir / "COMPLETE"
    files = sorted(out_dir.glob("events-*.jsonl"))
    if done.exists() and done.read_text() == str(events):
        return files
    for old in files:
        old.unlink()
    rng = random.Random(seed)
    paths: list[Path] = []
    base_ts = 1_700_000_000
    for start in range(0, events, EVENTS_PER_FILE):
        path = out_dir / f"events-{start // EVENTS_PER_FILE:04d}.jsonl"
        with open(path, "w", encoding="utf-8") as handle:
            for n in range(start, min(events, start + EVENTS_PER_FILE)):
                kind, template = _KINDS[n % len(_KINDS)]
                ts = base_ts + n * 3
                obj = template.format(
                    n=n,
                    n4=n % 10000,
                    n7=f"{n % 10_000_000:07d}",
                    cus=f"cus_{n // 6:08d}",
                    ts=ts,
                    amount=rng.randrange(500, 50_000),
                    promo="opt_in" if n % 2 else "opt_out",
                )
                handle.write(
                    f'{{"id":"evt_{n:010d}","object":"event","api_version":"2024-06-20","created":{ts},'
                    f'"data":{{"object":{obj}}},"livemode":false,"pending_webhooks":1,'
                    f'"request":{{"id":null,"idempotency_key":null}},"type":"{kind}"}}\n'
                )
        paths.append(path)
    done.write_text(str(events))
    return paths


def _stage_land(files: list[str], work: str) -> dict:
    from uds_pipelines.lib.config import Settings
    from uds_pipelines.lib.ingest.stripe_stage import land_stripe

    data_dir = Path(work) / "data"
    inbox = data_dir / "inbox" / "stripe"
    inbox.mkdir(parents=True)
    for f in files:  # hard links: landing removes inbox files, the cache keeps its copy
        os.link(f, inbox / Path(f).name)
    settings = Settings.from_env({"UDS_DATA_DIR": str(data_dir), "HOME": os.environ["HOME"]})
    summary = land_stripe(settings).summary
    return {"landed": summary.records_landed, "quarantined": summary.records_quarantined}


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
    """Run one measured stage; prints a JSON line with seconds and this process's peak RSS."""
    started = time.perf_counter()
    info = (_stage_land if stage == "land" else _stage_bare)(files, work)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss * 1024  # Linux reports KiB
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"stage": stage, "seconds": seconds, "cpu_seconds": cpu, "peak_rss": peak, **info}))


def _run_stage(stage: str, files: list[Path], work: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", stage, "--work", str(work), *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "uds_bench_stripe")
    parser.add_argument("--child", choices=["land", "bare"])
    parser.add_argument("--work", type=Path)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.files, str(args.work))
        return 0

    t0 = time.perf_counter()
    files = write_events(args.cache_dir / f"n{args.events}", args.events)
    size = sum(f.stat().st_size for f in files)
    print(
        f"input: {args.events} events, {len(files)} files, {size / 1e6:.0f} MB ({time.perf_counter() - t0:.1f}s)"
    )
    with tempfile.TemporaryDirectory(prefix="uds_bench_") as work:
        bare = _run_stage("bare", files, Path(work))
        land = _run_stage("land", files, Path(work))
    ratio = land["seconds"] / bare["seconds"]
    # Wall time is what the target is about; CPU time is printed because it is steadier on a busy host.
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    for row in (bare, land):
        rate = args.events / row["seconds"]
        print(
            f"{row['stage']:>5}: {row['seconds']:7.2f}s wall, {row['cpu_seconds']:7.2f}s CPU, "
            f"{rate:10,.0f} events/s, peak RSS {row['peak_rss'] / 2**20:6.0f} MiB"
        )
    print(f"landed={land['landed']} quarantined={land['quarantined']} bare_rows={bare['rows']}")
    ok = ratio <= TARGET_RATIO and land["peak_rss"] <= TARGET_RSS_BYTES
    cpu_ratio = land["cpu_seconds"] / bare["cpu_seconds"]
    print(
        f"ratio land/bare = {ratio:.2f} wall, {cpu_ratio:.2f} CPU (target <= {TARGET_RATIO}); {'OK' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
