#!/usr/bin/env bash
# Installs helm v3.22.0 into $REPO/tools/bin from the Go module proxy (idempotent).
set -euo pipefail
REPO="${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}"
BIN="$REPO/tools/bin"
if [ -x "$BIN/helm" ]; then exit 0; fi
mkdir -p "$BIN"
echo "installing helm v3.22.0 into $BIN"
GOBIN="$BIN" GOFLAGS=-mod=mod go install helm.sh/helm/v3/cmd/helm@v3.22.0
