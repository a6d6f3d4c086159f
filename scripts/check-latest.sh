#!/usr/bin/env bash
# Drift check: do the newest versions that pyproject.toml allows still work?
# Copies the tracked tree to a throwaway directory, re-resolves the lock there with every package
# at its newest allowed version (`uv lock --upgrade`), installs that into a throwaway venv, runs
# the end-to-end test and `uds-run` on the bundled samples, and prints which packages differ from
# the committed uv.lock. The committed lock is never touched: upgrading it is a deliberate commit
# (`.uv/bin/uv lock --upgrade`, then `./scripts/test.sh`) made while this check is green.
# Exit 0: green (differences are listed, not failures); 1: the test or the run failed.
source "$(dirname "$0")/_venv.sh" ""
WORK="$(mktemp -d "${TMPDIR:-/tmp}/uds-check-latest.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$WORK" 2>/dev/null \
    || { mkdir -p "$WORK" && tar --exclude=.venv --exclude=.uv --exclude=.git --exclude=data -cf - . | tar -xf - -C "$WORK"; }
cd "$WORK"
echo "check-latest: resolving the newest versions pyproject.toml allows"
UV_PYTHON_DOWNLOADS=never "$UV" lock --upgrade --quiet --python "$PYTHON"
UV_PROJECT_ENVIRONMENT="$WORK/.venv" UV_PYTHON_DOWNLOADS=never \
    "$UV" sync --frozen --all-extras --quiet --python "$PYTHON"

echo "check-latest: packages whose newest allowed version differs from the committed uv.lock"
"$PYTHON" - "$ROOT/uv.lock" "$WORK/uv.lock" <<'EOF'
import sys
import tomllib


def versions(path: str) -> dict[str, set[str]]:
    with open(path, "rb") as f:
        packages = tomllib.load(f)["package"]
    found: dict[str, set[str]] = {}
    for package in packages:
        if "version" in package and package.get("source", {}).get("editable") is None:
            found.setdefault(package["name"], set()).add(package["version"])
    return found


locked, newest = versions(sys.argv[1]), versions(sys.argv[2])
rows = [
    (name, ", ".join(sorted(locked.get(name, {"-"}))), ", ".join(sorted(newest.get(name, {"-"}))))
    for name in sorted(locked.keys() | newest.keys())
    if locked.get(name) != newest.get(name)
]
for name, old, new in rows:
    print(f"  {name:<32} lock {old:<24} newest {new}")
print(f"  {len(rows)} package(s) differ" if rows else "  none: the lock is current")
EOF

status=0
echo "check-latest: end-to-end test on the newest versions"
env -u UDS_DATA_DIR -u DAGSTER_HOME .venv/bin/python -m pytest -q -p no:cacheprovider \
    uds_pipelines_tests/test_end_to_end.py || status=1
echo "check-latest: uds-run on the bundled samples"
export UDS_DATA_DIR="$WORK/data" DAGSTER_HOME="$WORK/.dagster_home"
mkdir -p "$DAGSTER_HOME" && cp deploy/dagster.local.yaml "$DAGSTER_HOME/dagster.yaml"
.venv/bin/python -m uds_pipelines.cli.seed --from data/samples/inbox --to "$UDS_DATA_DIR/inbox"
.venv/bin/uds-run > "$WORK/uds-run.log" 2>&1 || status=1
tail -n 3 "$WORK/uds-run.log"
if [ "$status" = 0 ]; then echo "check-latest: GREEN"; else echo "check-latest: RED (see above)"; fi
exit "$status"
