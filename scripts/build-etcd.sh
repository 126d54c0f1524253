#!/usr/bin/env bash
# Builds etcd from the Go module proxy into .cache/etcd/bin and prints the binary's path (cached:
# instant once built, ~45 s cold). Debian's etcd 3.4 is out of upstream support; this is the
# current 3.6 line, the default for `npm start`, the tests, the chaos suite and the benchmarks
# (test/stack/etcd-binary.ts; CRONPLANE_ETCD=system picks the etcd on PATH instead).
#
# etcd's own main package lives in a module that is not published on its own; a tiny wrapper
# module calls its entry point (etcdmain), as scripts/build-ferretdb.sh does for FerretDB.
set -euo pipefail

VERSION=v3.6.16
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${CRONPLANE_CACHE_DIR:-$ROOT/.cache}/etcd"
BIN="$CACHE/bin/etcd-$VERSION"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

SRC="$CACHE/src"
mkdir -p "$SRC" "$CACHE/bin"
cat > "$SRC/go.mod" <<MOD
module cronplane.local/etcd-wrapper

go 1.24
MOD
cp "$ROOT/scripts/etcd-main.go" "$SRC/main.go"

cd "$SRC"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
go get "go.etcd.io/etcd/server/v3@$VERSION" >&2
go mod tidy >&2
go build -trimpath -o "$BIN.tmp" . >&2
mv "$BIN.tmp" "$BIN"
echo "$BIN"
