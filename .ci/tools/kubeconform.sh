#!/usr/bin/env bash
# Installs kubeconform v0.8.0 into $REPO/tools/bin from the Go module proxy (idempotent).
set -euo pipefail
REPO="${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}"
BIN="$REPO/tools/bin"
if [ -x "$BIN/kubeconform" ]; then exit 0; fi
mkdir -p "$BIN"
echo "installing kubeconform v0.8.0 into $BIN"
GOBIN="$BIN" GOFLAGS=-mod=mod go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0
