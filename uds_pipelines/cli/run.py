"""`uds-run`: process whatever is in the inbox through the whole graph once, headless.

It runs the same definitions through Dagster itself, so with the same DAGSTER_HOME its runs show
in the UI. Exit status is non-zero when any step or blocking check failed; failed steps are printed
by step name (`stripe_staging` writes every `stripe_*` table), failed checks as `table:check`.

By default the run executes in this process, outside the instance's run queue. With `--queue` it
is submitted to the queue instead (`dagster job launch` against the workspace) and the daemon
runs it under the queue's concurrency limits; `--wait SECONDS` then follows it to the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from uds_pipelines.constants import JOB_FULL_RUN, REBUILD_TAG


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="uds-run", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="overrides UDS_DATA_DIR")
    parser.add_argument("--job", default=JOB_FULL_RUN, help=f"job to run (default {JOB_FULL_RUN})")
    parser.add_argument(
        "--queue",
        action="store_true",
        help="submit the run to the instance's run queue for the daemon to execute",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild durable state (Stripe staging) from every landed batch instead of merging new ones",
    )
    parser.add_argument(
        "--workspace", default="workspace.yaml", help="with --queue: the daemon's workspace file"
    )
    parser.add_argument("--wait", type=float, help="with --queue: follow the run for up to this many seconds")
    args = parser.parse_args(argv)
    if args.data_dir:
        os.environ["UDS_DATA_DIR"] = args.data_dir
    # the README's commands use the same default, so these runs show in the UI
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"uds-run: DAGSTER_HOME={home} cannot be created: {exc.strerror}", file=sys.stderr)
        return 2
    os.environ["DAGSTER_HOME"] = str(home)

    import dagster as dg

    from uds_pipelines.definitions import defs
    from uds_pipelines.lib.config import ConfigError, Settings

    try:
        Settings.from_env()
    except ConfigError as exc:
        print(f"uds-run: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.queue:
        if args.rebuild:
            print("uds-run: --rebuild runs in this process; it cannot be queued", file=sys.stderr)
            return 2
        return _submit_to_queue(args.job, Path(args.workspace), args.wait)
    job = defs().resolve_job_def(args.job)
    tags = {REBUILD_TAG: "true"} if args.rebuild else None
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, tags=tags)
    # steps are named as before the graph showed one asset per table (stripe_staging, identity_map,
    # ...); checks are named with the table they guard, since one check name can guard several
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    failed_checks = [
        f"{ev.asset_key.to_user_string()}:{ev.check_name} ({ev.severity.value.lower()})"  # type: ignore[union-attr]
        for ev in evaluations
        if not ev.passed  # type: ignore[union-attr]
    ]
    print(f"uds-run: run {result.run_id} {'succeeded' if result.success and not failed else 'FAILED'}")
    for step in failed:
        print(f"  failed step: {step}", file=sys.stderr)
    for check in failed_checks:
        print(f"  failed check: {check}", file=sys.stderr)
    return 0 if result.success and not failed else 1


FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


def _submit_to_queue(job: str, workspace: Path, wait: float | None) -> int:
    """Queue `job` through the run coordinator; with `wait`, poll it until it finishes."""
    import dagster as dg

    if not workspace.is_file():
        print(
            f"uds-run: --queue needs the daemon's workspace file; {workspace} does not exist", file=sys.stderr
        )
        return 2
    with dg.DagsterInstance.get() as instance:
        before = {r.run_id for r in instance.get_runs(filters=dg.RunsFilter(job_name=job))}
        launch = subprocess.run(
            [str(Path(sys.executable).parent / "dagster"), "job", "launch", "-w", str(workspace), "-j", job],
            capture_output=True,
            text=True,
        )
        new = [r for r in instance.get_runs(filters=dg.RunsFilter(job_name=job)) if r.run_id not in before]
        if launch.returncode != 0 or not new:
            print(f"uds-run: could not queue {job}:\n{launch.stderr[-2000:]}", file=sys.stderr)
            return 1
        run_id = new[0].run_id
        print(f"uds-run: queued run {run_id} ({job})")
        if wait is None:
            return 0
        deadline = time.monotonic() + wait
        status = new[0].status.value
        while status not in FINISHED and time.monotonic() < deadline:
            time.sleep(1.0)
            status = instance.get_run_by_id(run_id).status.value
    print(f"uds-run: run {run_id} {status.lower()}")
    if status not in FINISHED:
        print(f"uds-run: still {status.lower()} after {wait:.0f} s: is the daemon running?", file=sys.stderr)
        return 3
    return 0 if status == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
