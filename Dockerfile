# syntax=docker/dockerfile:1
#
# Strata's container image: one static binary in an image built FROM scratch,
# with CA certificates and a non-root user, `strata serve` as the entrypoint.
#
#   docker build -t strata:dev .
#   docker run --rm -p 9092:9092 -p 8080:8080 -e STRATA_ADVERTISE_KAFKA_ADDR=127.0.0.1:9092 strata:dev
#
# This multi-stage build needs a registry for the golang builder image (users
# with registry access, CI elsewhere). The first stage compiles the binary with
# CGO off, so the result runs with no libc; the second stage is empty but for
# the binary, the CA bundle, /etc/passwd and an owned data directory.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
      -o /out/strata ./cmd/strata
# The runtime tree of the final image.
RUN mkdir -p /rootfs/etc/ssl/certs /rootfs/var/lib/strata /rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt \
 && echo 'strata:x:65532:65532:strata:/var/lib/strata:/sbin/nologin' > /rootfs/etc/passwd \
 && echo 'strata:x:65532:' > /rootfs/etc/group \
 && chown -R 65532:65532 /rootfs/var/lib/strata \
 && chmod 1777 /rootfs/tmp

FROM scratch
COPY --from=build /rootfs/ /
COPY --from=build /out/strata /usr/local/bin/strata
USER 65532:65532
WORKDIR /var/lib/strata
ENV STRATA_DATA_DIR=/var/lib/strata \
    STRATA_KAFKA_ADDR=0.0.0.0:9092 \
    STRATA_HTTP_ADDR=0.0.0.0:8080
EXPOSE 9092 8080
ENTRYPOINT ["/usr/local/bin/strata", "serve"]
