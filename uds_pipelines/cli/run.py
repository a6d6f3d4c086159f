"""`uds-run`: process whatever is in the inbox through the whole graph once, headless.

It runs the same definitions through Dagster itself, so with the same DAGSTER_HOME its runs show
in the UI. Exit status is non-zero when any asset or blocking check failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from uds_pipelines.constants import JOB_FULL_RUN


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="uds-run", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="overrides UDS_DATA_DIR")
    parser.add_argument("--job", default=JOB_FULL_RUN, help=f"job to run (default {JOB_FULL_RUN})")
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
    job = defs().resolve_job_def(args.job)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    failed_checks = [
        f"{ev.check_name} ({ev.severity.value.lower()})"  # type: ignore[union-attr]
        for ev in evaluations
        if not ev.passed  # type: ignore[union-attr]
    ]
    print(f"uds-run: run {result.run_id} {'succeeded' if result.success and not failed else 'FAILED'}")
    for step in failed:
        print(f"  failed step: {step}", file=sys.stderr)
    for check in failed_checks:
        print(f"  failed check: {check}", file=sys.stderr)
    return 0 if result.success and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
