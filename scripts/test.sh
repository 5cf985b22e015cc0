#!/usr/bin/env bash
# Install crowdmap with its test tools, start the services tests need, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
.venv/bin/ruff check --quiet .
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if (( status == 5 )); then
    echo "test.sh: no tests were collected; that is a failure" >&2
    exit 1
fi
# The whole suite (no arguments, as CI runs it): the bus codec must keep no surviving mutant
# (docs/TESTING.md; a few minutes).
if (( status == 0 && $# == 0 )); then
    bash scripts/mutation.sh bus/codec.py=tests/bus/test_codec.py || status=1
fi
exit "$status"
