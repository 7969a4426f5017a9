#!/usr/bin/env bash
# Installs the toxiproxy server into $REPO/tools/bin as toxiproxy-server, for
# network-fault tests (latency, cut links) between brokers, etcd and MinIO.
# Idempotent: does nothing when the binary is present.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$REPO/tools/bin"
VERSION="v2.5.0"

if [[ -x "$BIN/toxiproxy-server" ]]; then
	exit 0
fi
mkdir -p "$BIN"
# The command's package is named "server", so go install names the binary
# "server": build into a scratch GOBIN and rename it.
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "installing toxiproxy server@$VERSION into $BIN" >&2
GOBIN="$TMP" GOFLAGS=-mod=mod go install "github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION"
mv "$TMP/server" "$BIN/toxiproxy-server"
