#!/usr/bin/env bash
# Builds the strata container image from this checkout without a registry:
# a static binary plus CA certificates in an image FROM scratch
# (Dockerfile.local). Usage: scripts/image.sh [image-tag]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TAG="${1:-strata:dev}"
CTX="$REPO/build/image"
CA=/etc/ssl/certs/ca-certificates.crt
[[ -r "$CA" ]] || { echo "image: $CA missing (apt-get install ca-certificates)" >&2; exit 1; }
command -v docker >/dev/null || { echo "image: docker not installed (apt-get install docker.io)" >&2; exit 1; }

rm -rf "$CTX"
mkdir -p "$CTX/rootfs/usr/local/bin" "$CTX/rootfs/etc/ssl/certs" "$CTX/rootfs/tmp" "$CTX/data"
chmod 1777 "$CTX/rootfs/tmp"
(cd "$REPO" && CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o "$CTX/rootfs/usr/local/bin/strata" ./cmd/strata)
cp "$CA" "$CTX/rootfs/etc/ssl/certs/ca-certificates.crt"
echo 'strata:x:65532:65532:strata:/var/lib/strata:/sbin/nologin' > "$CTX/rootfs/etc/passwd"
echo 'strata:x:65532:' > "$CTX/rootfs/etc/group"
cp "$REPO/Dockerfile.local" "$CTX/Dockerfile"
docker build -q -t "$TAG" "$CTX"
echo "built $TAG" >&2
