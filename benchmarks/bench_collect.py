"""Sustained throughput of `uds-collect`: `python benchmarks/bench_collect.py [--seconds 20 --threads 4]`.

Starts the collector as its own process (as deployed: one uvicorn worker), then posts batches of
100 track events from several client threads over keep-alive HTTP connections (plain
`http.client`, not an SDK's background thread) for a fixed time. Every batch has fresh
messageIds, so each one is really written and fsynced. Counts only acknowledged events, then
stops the collector gracefully and checks that the inbox holds exactly those events.

The clients run on the same machine and take CPU from the server; the collector's own CPU
seconds are reported too. Target: 5,000 events/s on 2 cores (issue 18); RudderStack publishes
about 1,700/s for its gateway on a 2-core machine.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

TARGET_EVENTS_PER_SECOND = 5_000
WRITE_KEY = "wk_bench"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def batch_template(size: int) -> bytes:
    """A realistic analytics batch; `@@@@@@@@@@@@@@@@` is replaced by a unique prefix per batch."""
    now = datetime.now(UTC).isoformat()
    events = [
        {
            "type": "track",
            "event": "Product Added" if i % 3 else "Order Completed",
            "userId": f"user-{i % 17}",
            "anonymousId": f"anon-{i % 29:08d}-6f1c-4a3e-9b7d-2c1e8f0a5b3d",
            "messageId": f"@@@@@@@@@@@@@@@@-{i:04d}",
            "timestamp": now,
            "properties": {"sku": f"SKU-{i:05d}", "price": 19.99, "quantity": 1, "currency": "EUR"},
            "context": {
                "library": {"name": "analytics-python", "version": "2.3.4"},
                "page": {"path": "/product/123", "url": "https://shop.example/product/123"},
                "campaign": {"source": "newsletter", "medium": "email", "name": "winter"},
                "ip": "203.0.113.7",
            },
        }
        for i in range(size)
    ]
    return json.dumps({"batch": events, "sentAt": now}).encode()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("UDS_")}
    env.update(UDS_DATA_DIR=str(data_dir), UDS_WRITE_KEYS=f"{WRITE_KEY}:bench")
    server = subprocess.Popen(
        [sys.executable, "-m", "uds_pipelines.cli.collect", "--port", str(port), "--log-level", "warning"],
        env=env,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("collector did not start") from None
            time.sleep(0.1)

    template = batch_template(args.batch)
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode(),
    }
    acknowledged = [0] * args.threads
    errors = [0] * args.threads
    stop = threading.Event()

    def client(worker: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while not stop.is_set():
            body = template.replace(b"@@@@@@@@@@@@@@@@", f"t{worker:03d}b{n:011d}".encode())
            n += 1
            conn.request("POST", "/v1/batch", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                acknowledged[worker] += args.batch
            else:
                errors[worker] += 1

    cpu_before = _cpu_seconds(server.pid)
    threads = [threading.Thread(target=client, args=(w,)) for w in range(args.threads)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(args.seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server_cpu = _cpu_seconds(server.pid) - cpu_before
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)

    total = sum(acknowledged)
    stored = 0
    for path in (data_dir / "inbox" / "events").glob("events_*.jsonl"):
        with path.open("rb") as handle:
            stored += sum(1 for _ in handle)
    shutil.rmtree(data_dir, ignore_errors=True)
    rate = total / elapsed
    load = os.getloadavg()
    print(f"batches of {args.batch}, {args.threads} client threads, {elapsed:.1f} s, {os.cpu_count()} CPUs")
    print(f"acknowledged {total:,} events, {sum(errors)} failed requests, {stored:,} lines in inbox/events")
    print(f"collector CPU {server_cpu:.1f} s ({total / max(server_cpu, 1e-9):,.0f} events per CPU-second)")
    print(f"load average after the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    verdict = "PASS" if rate >= TARGET_EVENTS_PER_SECOND and stored == total else "MISS"
    print(f"{verdict} {rate:,.0f} events/s sustained (target {TARGET_EVENTS_PER_SECOND:,}/s)")
    print("RESULT " + json.dumps({"events_per_second": round(rate), "events": total, "stored": stored}))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
