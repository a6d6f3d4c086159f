#!/usr/bin/env bash
# Command 2: install the project with its test extra and run the whole test suite.
source "$(dirname "$0")/_venv.sh" "test"
exec python -m pytest "$@"
