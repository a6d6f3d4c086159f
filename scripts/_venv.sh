# Sourced by the scripts: builds .venv from the committed lock (uv.lock) with the given extras,
# so users, tests and CI run the same versions. Reinstalls only when uv.lock or pyproject.toml
# changed since the last install of these extras.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "uds_pipelines needs Python >= 3.11 with venv; '$PYTHON' is $("$PYTHON" -V 2>&1 || echo missing)" >&2
    echo "(set PYTHON=/path/to/python3.11 or newer)" >&2
    exit 2
fi
# uv itself, pinned by hash, in a venv of its own (uv sync would treat it as foreign in .venv)
UV="$ROOT/.uv/bin/uv"
# (`uv --version` prints "uv 0.13.9 (x86_64-unknown-linux-gnu)": compare the second word)
if [ "$("$UV" --version 2>/dev/null | cut -d' ' -f2)" != "$(sed -n 's/^uv==//p' scripts/uv-tool.in)" ]; then
    rm -rf .uv
    "$PYTHON" -m venv .uv
    .uv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
        -r scripts/uv-tool.txt
fi
EXTRAS="${1:-}"
STAMP=".venv/.installed${EXTRAS:+-$EXTRAS}"
WANT="$(cat uv.lock pyproject.toml | "$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
installed() {
    # the base install is part of every extras' install: any current stamp will do for no extras
    local stamp candidates=("$STAMP")
    [ -z "$EXTRAS" ] && candidates+=(.venv/.installed*)
    for stamp in "${candidates[@]}"; do
        if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$WANT" ]; then return 0; fi
    done
    return 1
}
if ! installed; then
    EXTRA_ARGS=()
    for extra in ${EXTRAS//,/ }; do EXTRA_ARGS+=(--extra "$extra"); done
    # --locked: stop if uv.lock no longer matches pyproject.toml instead of re-resolving;
    # --inexact: keep other extras' packages, so start.sh after test.sh does not uninstall them
    UV_PROJECT_ENVIRONMENT="$ROOT/.venv" UV_PYTHON_DOWNLOADS=never \
        "$UV" sync --locked --inexact --python "$PYTHON" --quiet "${EXTRA_ARGS[@]}"
    echo "$WANT" > "$STAMP"
fi
# as `source .venv/bin/activate` would: dg warns when the active venv is not the project's
export VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH"
