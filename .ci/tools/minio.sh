#!/usr/bin/env bash
# Installs the MinIO server binary into $REPO/tools/bin for the objstore
# acceptance tests. Idempotent: does nothing when the binary is present.
# A cold build takes several minutes.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$REPO/tools/bin"
VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

if [[ -x "$BIN/minio" ]]; then
	exit 0
fi
mkdir -p "$BIN"
echo "installing minio@$VERSION into $BIN (this can take ~7 minutes)" >&2
GOBIN="$BIN" GOFLAGS=-mod=mod go install "github.com/minio/minio@$VERSION"
