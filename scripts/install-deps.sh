#!/usr/bin/env bash
# Installs what the tests, benchmarks and `npm start` need, and only what is missing:
#   etcd (Debian's etcd-server + etcd-client, and a current etcd built from the Go module
#   proxy), chromium (browser tests), shellcheck (lint), node_modules (npm ci), the agent's
#   launcher (Go, launcher/), and a MongoDB-wire server
#   (FerretDB built from source, unless MONGO_URL is set or mongod is on PATH). Safe to run
#   again; CI runs it as root.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

say() { printf 'install-deps: %s\n' "$*"; }

# Bash 3.2 (macOS) treats an empty array as unset under `set -u`, hence ${SUDO[@]+...} below.
SUDO=()
if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
fi

apt_updated=false
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    say "cannot install $* (no apt-get); install it with your package manager"
    return 1
  fi
  if [[ $EUID -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
    say "cannot install $* (not root and no sudo); run: apt-get install -y $*"
    return 1
  fi
  if [[ $apt_updated == false ]]; then
    say "apt-get update"
    ${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=true
  fi
  say "apt-get install -y $*"
  ${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

failed=()

# command, then the packages that provide it, then whether tests cannot run without it.
ensure_command() {
  local command=$1 required=$2
  shift 2
  if command -v "$command" >/dev/null 2>&1; then
    say "$command: present ($(command -v "$command"))"
  elif apt_install "$@" && command -v "$command" >/dev/null 2>&1; then
    say "$command: installed ($*)"
  elif [[ $required == required ]]; then
    failed+=("$command")
  else
    say "$command: missing; the tests that need it will not run"
  fi
}

ensure_command etcd required etcd-server etcd-client
ensure_command chromium optional chromium
ensure_command shellcheck optional shellcheck

# npm rewrites node_modules/.package-lock.json on every install, so it dates the tree.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci (node_modules missing or older than package-lock.json)"
  npm ci --no-audit --no-fund
else
  say "node_modules: up to date"
fi

# The agent runs commands through it; its contract tests and the agent tests need it built.
if bash scripts/build-launcher.sh >/dev/null; then
  say "launcher: built for linux/amd64 and linux/arm64 (dist/launcher)"
else
  say "launcher: building it failed; it needs Go >= 1.22"
  failed+=("launcher")
fi

# Debian's etcd (above) is 3.4, out of upstream support: the stack runs a current one built from
# the Go module proxy (cached after the first build, ~45 s cold), and keeps Debian's as the
# fallback the tests also run against (CRONPLANE_ETCD=system).
start=$SECONDS
if binary="$(bash scripts/build-etcd.sh)"; then
  say "etcd: $("$binary" --version | head -1) ready at $binary ($((SECONDS - start)) s)"
else
  say "etcd: building it failed; it needs Go >= 1.24"
  failed+=("etcd")
fi

if [[ -n ${MONGO_URL:-} ]]; then
  say "MongoDB: using MONGO_URL; FerretDB not needed"
elif command -v mongod >/dev/null 2>&1; then
  say "MongoDB: mongod present ($(command -v mongod)); FerretDB not needed"
else
  # Cached after the first build (~90 s cold); the script prints the binary's path.
  start=$SECONDS
  if binary="$(bash scripts/build-ferretdb.sh)"; then
    say "MongoDB: FerretDB ready at $binary ($((SECONDS - start)) s)"
  else
    say "MongoDB: building FerretDB failed; it needs Go >= 1.22 (or install mongod, or set MONGO_URL)"
    failed+=("ferretdb")
  fi
fi

if [[ ${#failed[@]} -gt 0 ]]; then
  say "FAILED: could not provide ${failed[*]}"
  exit 1
fi
say "done"
