#!/usr/bin/env bash
# Installs tflint v0.64.0 into $REPO/tools/bin from the Go module proxy (idempotent).
set -euo pipefail
REPO="${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}"
BIN="$REPO/tools/bin"
if [ -x "$BIN/tflint" ]; then exit 0; fi
mkdir -p "$BIN"
echo "installing tflint v0.64.0 into $BIN"
GOBIN="$BIN" GOFLAGS=-mod=mod go install github.com/terraform-linters/tflint@v0.64.0
