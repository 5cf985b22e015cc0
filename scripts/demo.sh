#!/usr/bin/env bash
# Install crowdmap and run the embedded demo station: open the URL it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/crowdmap demo "$@"
