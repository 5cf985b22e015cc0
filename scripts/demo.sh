#!/usr/bin/env bash
# Install crowdmap and run the embedded demo station: open the URL it prints.
# Arguments go to `crowdmap demo`: --footage adds the PETS2009 station on its real clip (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/crowdmap demo "$@"
