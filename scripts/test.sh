#!/usr/bin/env bash
# Command 2: install the project with its test extra and run the whole test suite.
# The suite runs on every core, up to four (UDS_TEST_WORKERS=N to choose, 0 for one process):
# most of its time is whole-graph runs that wait on Dagster's subprocesses. A test file stays on
# one worker (--dist loadfile), so a module's expensive fixture (a served UI, a run lake) is built
# once, and the slowest files start first (conftest.py) so none is left running alone at the end.
source "$(dirname "$0")/_venv.sh" "test"
WORKERS="${UDS_TEST_WORKERS:-$(python -c 'import os; print(min(len(os.sched_getaffinity(0)), 4))')}"
if [ "$WORKERS" -gt 1 ]; then
    exec python -m pytest -n "$WORKERS" --dist loadfile "$@"
fi
exec python -m pytest "$@"
