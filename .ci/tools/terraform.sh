#!/usr/bin/env bash
# Installs terraform v1.5.7 into $REPO/tools/bin from the Go module proxy (idempotent).
set -euo pipefail
REPO="${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}"
BIN="$REPO/tools/bin"
if [ -x "$BIN/terraform" ]; then exit 0; fi
mkdir -p "$BIN"
echo "installing terraform v1.5.7 into $BIN"
GOBIN="$BIN" GOFLAGS=-mod=mod go install github.com/hashicorp/terraform@v1.5.7
