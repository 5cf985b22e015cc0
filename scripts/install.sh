#!/usr/bin/env bash
# Install crowdmap into ./.venv (idempotent). `--dev` adds the test tools, Chromium and the services tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1
python=${PYTHON:-python3}

if [[ ! -x .venv/bin/python ]]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if (( dev )); then
    .venv/bin/python -m pip install --quiet -e ".[dev]"
else
    .venv/bin/python -m pip install --quiet -e .
fi

# The Socket.IO browser client comes from the npm registry, pinned by webmap/frontend's lockfile.
if [[ -f webmap/frontend/package.json ]]; then
    .venv/bin/python -m webmap.assets install
fi

if (( dev )); then
    # Browser tests drive Debian's Chromium; the CJK fonts make Japanese pages legible in screenshots.
    if [[ ! -x /usr/bin/chromium ]] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
        if [[ $(id -u) -eq 0 ]]; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
        else
            echo "install.sh: browser tests need Debian's chromium: sudo apt-get install -y chromium fonts-noto-cjk" >&2
        fi
    fi
    bash scripts/services.sh
fi
