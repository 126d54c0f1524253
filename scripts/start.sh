#!/usr/bin/env bash
# The start command of README.md: installs what is missing, then starts etcd, the MongoDB-wire
# server, the relay, the control plane with the console, and one agent, with data in .cronplane/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >&2
exec npm start -- "$@"
