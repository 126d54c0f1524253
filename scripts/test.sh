#!/usr/bin/env bash
# The test command of README.md (and of CI): installs what is missing, then format check, lint,
# type-check and the whole test suite against a real etcd and MongoDB-wire server, then the
# quick subset of the chaos suite (every fault scenario, shorter workloads; ~4 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run check
npm run test:chaos -- --quick
