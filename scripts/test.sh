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
exit "$status"
