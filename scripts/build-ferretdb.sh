#!/usr/bin/env bash
# Builds FerretDB v1.24.2 (SQLite backend) from the Go module proxy into .cache/ferretdb/bin.
#
# `go install .../cmd/ferretdb@v1.24.2` yields a binary that panics at start-up: its
# build/version/version.txt is generated upstream and is not part of the module. A tiny
# wrapper module that embeds FerretDB's `ferretdb` package sidesteps that check entirely.
set -euo pipefail

VERSION=v1.24.2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${CRONPLANE_CACHE_DIR:-$ROOT/.cache}/ferretdb"
BIN="$CACHE/bin/ferretdb-$VERSION"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

SRC="$CACHE/src"
mkdir -p "$SRC" "$CACHE/bin"
cat > "$SRC/go.mod" <<MOD
module cronplane.local/ferretdb-wrapper

go 1.22
MOD
cp "$ROOT/scripts/ferretdb-main.go" "$SRC/main.go"

cd "$SRC"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
go get "github.com/FerretDB/FerretDB@$VERSION" >&2
go mod tidy >&2
# Newer Go toolchains refuse FerretDB's go:linkname uses at link time ("invalid reference to ...").
if ! go build -trimpath -o "$BIN.tmp" . >&2 2>"$CACHE/build.log"; then
  go build -trimpath -ldflags=-checklinkname=0 -o "$BIN.tmp" . >&2
fi
mv "$BIN.tmp" "$BIN"
echo "$BIN"
