#!/usr/bin/env bash
# The test command of README.md (and of CI): installs what is missing, then format check, lint,
# type-check and the whole test suite against a real etcd and MongoDB-wire server, the agent's
# integration tests again against Debian's older etcd, then the quick subset of the chaos suite
# (every fault scenario, shorter workloads; ~4 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run check
# The agent's integration tests once more against the fallback etcd (Debian's 3.4 on PATH):
# npm run check ran everything against the current etcd that install-deps built.
CRONPLANE_ETCD=system node scripts/run-tests.mjs test/integration/agent- test/integration/claims
npm run test:chaos -- --quick
