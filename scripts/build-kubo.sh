#!/usr/bin/env bash
# Finds the Kubo daemon the tests and the demo run: $NIX_IPFS_KUBO_BIN, else a supported `ipfs` on
# PATH, else one built from source through the Go module proxy and cached outside the clone.
# Prints the binary's path on stdout (and nothing else).
# `go install github.com/ipfs/kubo/cmd/ipfs@vX` is refused because kubo's go.mod has
# `exclude` lines, so a throwaway wrapper module requires kubo and builds cmd/ipfs.
set -euo pipefail

KUBO_VERSION="${NIX_IPFS_KUBO_VERSION:-v0.42.0}"

if [ -n "${NIX_IPFS_KUBO_BIN:-}" ]; then
  [ -x "$NIX_IPFS_KUBO_BIN" ] || { echo "NIX_IPFS_KUBO_BIN=$NIX_IPFS_KUBO_BIN is not an executable" >&2; exit 1; }
  echo "$NIX_IPFS_KUBO_BIN"; exit 0
fi

# A Kubo the user already has is used when nix-ipfs supports its version. 0.25.0 is the first
# Kubo with API.Authorizations and `--api-auth` (the API token settings and their tests); every
# other RPC nix-ipfs calls (add --nocopy/--raw-leaves, files cp --parents/--flush, files flush,
# name publish --allow-offline, key gen) is older. Kubo is pre-1.0 and drops deprecated RPCs a few
# minors later: the changelogs up to 0.44 drop none of these, and 0.50 bounds how far past that we
# vouch for it. The test suite here runs the pinned version only.
KUBO_MIN=0.25.0
KUBO_BELOW=0.50.0

# "0.42.0" or "0.43.0-rc1" → one comparable number; nothing for text that is not a version.
version_key() {
  [[ "$1" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]] || return 1
  echo $(( 10#${BASH_REMATCH[1]} * 1000000 + 10#${BASH_REMATCH[2]} * 1000 + 10#${BASH_REMATCH[3]} ))
}

supported_kubo() {
  local key
  key="$(version_key "$1")" || return 1
  (( key >= $(version_key $KUBO_MIN) && key < $(version_key $KUBO_BELOW) ))
}

path_ipfs="$(command -v ipfs || true)"
if [ -n "$path_ipfs" ]; then
  path_version="$("$path_ipfs" version --number 2>/dev/null | head -n 1 || true)"
  if supported_kubo "$path_version"; then echo "$path_ipfs"; exit 0; fi
  echo "Not using $path_ipfs (Kubo version '${path_version:-unknown}'): nix-ipfs supports Kubo $KUBO_MIN up to, not including, $KUBO_BELOW. Set NIX_IPFS_KUBO_BIN=$path_ipfs to use it anyway; using Kubo $KUBO_VERSION built from source instead." >&2
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/nix-ipfs/kubo-$KUBO_VERSION"
bin="$cache/ipfs"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

GO="$(command -v go || true)"
[ -n "$GO" ] || [ ! -x /usr/local/go/bin/go ] || GO=/usr/local/go/bin/go
if [ -z "$GO" ]; then
  echo "Go is needed to build Kubo $KUBO_VERSION: install it from https://go.dev/dl/ (or 'apt-get install golang'), put Kubo $KUBO_MIN–$KUBO_BELOW (not included) on PATH as ipfs, or set NIX_IPFS_KUBO_BIN to an existing ipfs binary." >&2
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
