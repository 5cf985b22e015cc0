#!/usr/bin/env bash
# Install crowdmap into ./.venv (idempotent). `--dev` adds the test tools, Chromium and the services tests use.
#
# From the system (Debian packages, installed here when run as root, else named for you to install):
#   always  python3 with venv, npm (the browser's Socket.IO client; `crowdmap models pull` uses it too)
#   --dev   chromium and fonts-noto-cjk (browser tests, legible Japanese), redis-server and postgresql
#           (started and prepared by scripts/services.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1
python=${PYTHON:-python3}

needed=() wanted=()
"$python" -c 'import ensurepip, venv' 2>/dev/null || needed+=(python3-venv)
command -v npm >/dev/null || needed+=(npm)
if (( dev )); then
    [[ -x /usr/bin/chromium ]] || wanted+=(chromium)
    dpkg -s fonts-noto-cjk >/dev/null 2>&1 || wanted+=(fonts-noto-cjk)
    command -v redis-server >/dev/null || wanted+=(redis-server)
    command -v pg_ctlcluster >/dev/null || wanted+=(postgresql)
fi
missing=("${needed[@]}" "${wanted[@]}")
if (( ${#missing[@]} )); then
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    elif (( ${#needed[@]} )); then
        echo "install.sh: crowdmap needs: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    else
        echo "install.sh: the tests need: sudo apt-get install -y ${missing[*]}" >&2
    fi
fi

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
.venv/bin/python -m webmap.assets install

if (( dev )); then
    bash scripts/services.sh
fi
