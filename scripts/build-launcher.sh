#!/usr/bin/env bash
# Builds cronplane-launcher (launcher/README.md), a static Go program with no dependencies
# outside the standard library, for Linux on amd64 and arm64:
#
#   <out>/linux-<arch>/cronplane-launcher          the binary
#   <out>/linux-<arch>/cronplane-launcher.sha256   its digest, in `sha256sum -c` format
#   <out>/linux-<arch>/VERSION                     the version stamped into it
#
# usage: scripts/build-launcher.sh [--version V] [--out-dir DIR] [--arch amd64|arm64|all]
# The version defaults to package.json's plus the git commit (`0.1.0+1a2b3c4`, `.dirty` when the
# work tree has changes), as scripts/build-agent.mjs stamps the agent. A binary newer than every
# file in launcher/ and stamped with the same version is reused, so calling this often is cheap.
# Prints the path of each binary on stdout, one per line; progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$ROOT/launcher"
OUT="$ROOT/dist/launcher"
ARCH=all
VERSION=

usage() {
  echo "usage: $0 [--version V] [--out-dir DIR] [--arch amd64|arm64|all]" >&2
  exit 2
}

while (($# > 0)); do
  case "$1" in
    --version)
      (($# >= 2)) || usage
      VERSION="$2"
      shift 2
      ;;
    --out-dir)
      (($# >= 2)) || usage
      OUT="$2"
      shift 2
      ;;
    --arch)
      (($# >= 2)) || usage
      ARCH="$2"
      shift 2
      ;;
    -h | --help) usage ;;
    *)
      echo "build-launcher: unknown argument: $1" >&2
      usage
      ;;
  esac
done

case "$ARCH" in
  amd64 | arm64) ARCHES=("$ARCH") ;;
  all) ARCHES=(amd64 arm64) ;;
  *)
    echo "build-launcher: --arch must be amd64, arm64 or all, not $ARCH" >&2
    exit 2
    ;;
esac

stamped_version() {
  local version commit dirty=
  version="$(sed -nE 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"([^"]+)".*/\1/p' \
    "$ROOT/package.json" | head -n 1)"
  if [[ -z "$version" ]]; then
    echo "build-launcher: no version in $ROOT/package.json" >&2
    exit 1
  fi
  # Not a git checkout (e.g. a source tarball): the plain package version.
  if ! commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"; then
    echo "$version"
    return
  fi
  if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ]]; then
    dirty=.dirty
  fi
  echo "$version+$commit$dirty"
}

find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  else
    echo "build-launcher: Go is needed to build the launcher, and there is no \`go\` on PATH" \
      "or in /usr/local/go/bin. Install Go 1.22 or newer (https://go.dev/dl/)." >&2
    exit 1
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$@"
  else
    shasum -a 256 "$@"
  fi
}

# Whether the binary in $1 can stand: stamped with $VERSION, its digest beside it, and no source
# (nor this script, which holds the build flags) changed since it was built.
up_to_date() {
  local dir="$1"
  [[ -x "$dir/cronplane-launcher" && -f "$dir/cronplane-launcher.sha256" && -f "$dir/VERSION" ]] ||
    return 1
  [[ "$(<"$dir/VERSION")" == "$VERSION" ]] || return 1
  [[ -z "$(find "$SRC" "${BASH_SOURCE[0]}" -type f -newer "$dir/cronplane-launcher" -print -quit)" ]]
}

[[ -n "$VERSION" ]] || VERSION="$(stamped_version)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
GO=

for arch in "${ARCHES[@]}"; do
  dir="$OUT/linux-$arch"
  if up_to_date "$dir"; then
    echo "build-launcher: linux/$arch $VERSION is up to date" >&2
    echo "$dir/cronplane-launcher"
    continue
  fi
  [[ -n "$GO" ]] || GO="$(find_go)"
  echo "build-launcher: building linux/$arch $VERSION with $("$GO" env GOVERSION)" >&2
  mkdir -p "$dir"
  # Built beside its final name and moved into place, so no one ever runs half a binary.
  tmp="$dir/.cronplane-launcher.tmp"
  (
    cd "$SRC"
    CGO_ENABLED=0 GOOS=linux GOARCH="$arch" "$GO" build -trimpath \
      -ldflags "-s -w -X main.version=$VERSION" -o "$tmp" .
  )
  mv -f "$tmp" "$dir/cronplane-launcher"
  (cd "$dir" && sha256 cronplane-launcher >cronplane-launcher.sha256)
  # Last: a build cut short leaves a stale stamp, and the next call builds again.
  echo "$VERSION" >"$dir/VERSION"
  echo "$dir/cronplane-launcher"
done
