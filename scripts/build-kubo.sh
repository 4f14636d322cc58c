#!/usr/bin/env bash
# Builds the real Kubo daemon from source through the Go module proxy and caches it
# outside the clone. Prints the binary's path on stdout (and nothing else).
# `go install github.com/ipfs/kubo/cmd/ipfs@vX` is refused because kubo's go.mod has
# `exclude` lines, so a throwaway wrapper module requires kubo and builds cmd/ipfs.
set -euo pipefail

KUBO_VERSION="${NIX_IPFS_KUBO_VERSION:-v0.42.0}"

if [ -n "${NIX_IPFS_KUBO_BIN:-}" ]; then
  [ -x "$NIX_IPFS_KUBO_BIN" ] || { echo "NIX_IPFS_KUBO_BIN=$NIX_IPFS_KUBO_BIN is not an executable" >&2; exit 1; }
  echo "$NIX_IPFS_KUBO_BIN"; exit 0
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/nix-ipfs/kubo-$KUBO_VERSION"
bin="$cache/ipfs"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

GO="$(command -v go || true)"
[ -n "$GO" ] || [ ! -x /usr/local/go/bin/go ] || GO=/usr/local/go/bin/go
if [ -z "$GO" ]; then
  echo "Go is needed to build Kubo $KUBO_VERSION: install it from https://go.dev/dl/ (or 'apt-get install golang'), or set NIX_IPFS_KUBO_BIN to an existing ipfs binary." >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache"
echo "Building Kubo $KUBO_VERSION from source (first run only; cached in $cache)..." >&2
(
  cd "$work"
  "$GO" mod init nix-ipfs-kubo-wrapper >/dev/null 2>&1
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/ipfs/kubo/cmd/ipfs"
GO
  "$GO" mod edit -require="github.com/ipfs/kubo@$KUBO_VERSION"
  # replace and exclude directives only apply in the main module: carry kubo's over.
  kubo_mod="$("$GO" mod download -json "github.com/ipfs/kubo@$KUBO_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  awk '/^(replace|exclude) \(/{block=1} block{print; if ($0 ~ /^\)/) block=0; next} /^(replace|exclude) /{print}' "$kubo_mod" >> go.mod
  GOFLAGS=-mod=mod "$GO" mod tidy >&2
  GOFLAGS=-mod=mod "$GO" build -trimpath -o "$bin.tmp" github.com/ipfs/kubo/cmd/ipfs >&2
)
mv "$bin.tmp" "$bin"
echo "$bin"
