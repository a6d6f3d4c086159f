"""Benchmark: the whole job with the lake on local disk versus on an S3-compatible server.

The S3 server is moto's `moto_server` on loopback, on the same 2 cores, so its CPU competes with
the run: the figures show the cost of going through s3fs and DuckDB's fsspec bridge plus a slow
Python S3 server, not a cloud region's latency. Prints wall time per step, objects and bytes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs
from uds_pipelines.lib.generator.core import generate

AS_OF = "2026-11-01T00:00:00Z"


def run_job(data_dir: Path, env: dict[str, str]) -> tuple[float, dict[str, float]]:
    saved = dict(os.environ)
    os.environ.update({"UDS_DATA_DIR": str(data_dir), "UDS_AS_OF": AS_OF} | env)
    try:
        with dg.instance_for_test() as instance:
            started = time.perf_counter()
            result = defs().resolve_job_def(c.JOB_FULL_RUN).execute_in_process(instance=instance, raise_on_error=False)
            seconds = time.perf_counter() - started
            steps = {}
            for stats in instance.get_run_step_stats(result.run_id):
                steps[stats.step_key] = (stats.end_time or 0) - (stats.start_time or 0)
        if not result.success:
            raise SystemExit("the job failed; run the end-to-end test for details")
        return seconds, steps
    finally:
        os.environ.clear()
        os.environ.update(saved)


def start_s3_server() -> tuple[subprocess.Popen, str]:
    """moto's S3 server in its own process, so its work does not share our interpreter's GIL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("moto_server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=2000)
    args = parser.parse_args()
    from uds_pipelines_tests.conftest import S3_TEST_ENV, make_bucket

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "gen", people=args.people, seed=1)
        for name in ("local", "s3"):
            shutil.copytree(root / "gen" / "inbox", root / name / "inbox")
        local_seconds, local_steps = run_job(root / "local", {})
        local_files = [p for p in (root / "local").rglob("*") if p.is_file() and {"lake", "exports"} & set(p.parts)]
        local_mib = sum(p.stat().st_size for p in local_files) / 2**20
        server, endpoint = start_s3_server()
        try:
            fs, bucket = make_bucket(endpoint)
            env = S3_TEST_ENV | {"UDS_S3_ENDPOINT_URL": endpoint, "UDS_LAKE_URL": f"s3://{bucket}/cdp"}
            s3_seconds, s3_steps = run_job(root / "s3", env)
            objects = fs.find(bucket, detail=True)
        finally:
            server.terminate()
            server.wait()
    print(f"people={args.people}: the full job's first run, lake and exports local vs on S3 (moto_server, loopback)")
    print(f"{'':<28}{'local s':>9}{'S3 s':>9}{'ratio':>7}")
    for step in sorted(local_steps, key=lambda k: -s3_steps.get(k, 0)):
        a, b = local_steps[step], s3_steps.get(step, float("nan"))
        print(f"{step:<28}{a:>9.1f}{b:>9.1f}{b / a if a else float('nan'):>7.1f}")
    print(f"{'whole job (wall)':<28}{local_seconds:>9.1f}{s3_seconds:>9.1f}{s3_seconds / local_seconds:>7.1f}")
    s3_mib = sum(o["size"] for o in objects.values()) / 2**20
    print(f"files written: local {len(local_files)} ({local_mib:.1f} MiB), S3 {len(objects)} objects ({s3_mib:.1f} MiB)")


if __name__ == "__main__":
    main()
