#!/usr/bin/env bash
# Command 1: install from the lock, seed the inbox with the bundled samples, run the whole graph
# once, then serve the Dagster UI (`dg dev`) on http://127.0.0.1:${UDS_PORT:-3000} with sensors and
# schedules running. Ctrl-C stops.
source "$(dirname "$0")/_venv.sh" ""
export DAGSTER_HOME="${DAGSTER_HOME:-$ROOT/.dagster_home}"
export UDS_DATA_DIR="${UDS_DATA_DIR:-$ROOT/data}"
PORT="${UDS_PORT:-3000}"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp "$ROOT/deploy/dagster.local.yaml" "$DAGSTER_HOME/dagster.yaml"
python -m uds_pipelines.cli.seed --from "$ROOT/data/samples/inbox" --to "$UDS_DATA_DIR/inbox"
# The samples end on the generator's default end date; the first run is "as of" that day, so the
# recency segments (new customers, at risk) and every bundled audience have members. Later runs
# (sensors, schedules) use the clock, or UDS_AS_OF when set.
SAMPLES_AS_OF="$(python -c 'from uds_pipelines.lib.generator.core import DEFAULT_END; print(DEFAULT_END)')"
UDS_AS_OF="${UDS_AS_OF:-$SAMPLES_AS_OF}" uds-run \
    || echo "uds-run reported failures; open the UI to see which step or check failed" >&2
echo "Dagster UI: http://127.0.0.1:$PORT  (Ctrl-C to stop; run history is kept in $DAGSTER_HOME)"
exec dg dev -w workspace.yaml -h 127.0.0.1 -p "$PORT"
