# Strata: `make run` starts a single-node broker; `make test` runs every test.
GO        ?= go
BIN       := bin/strata
TOOLS     := $(CURDIR)/tools
PKGS      := ./...
IMAGE     ?= strata:dev

.PHONY: run build test bench lint deps tools image cluster cluster-stop

build:
	$(GO) build -o $(BIN) ./cmd/strata

run: build
	./$(BIN) serve

## deps: what the tests need on a fresh Debian machine (kcat, etcd-server).
deps:
	@command -v kcat >/dev/null && command -v etcd >/dev/null && command -v dockerd >/dev/null && command -v curl >/dev/null && command -v gcc >/dev/null || { \
	  echo "installing kcat and etcd-server"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq gcc curl kcat etcd-server docker.io ca-certificates >/dev/null; }
	@kcat -V | head -1
	@etcd --version | head -1

## tools: binaries the tests run (minio, helm, kubeconform, terraform,
## tflint), built with `go install` into ./tools/bin once and reused.
tools:
	@for s in .ci/tools/*.sh; do bash "$$s" || exit 1; done

## test: unit tests, fuzz
## seed corpora, then end-to-end suites against real strata processes.
test: deps tools build
	CI=$${CI:-1} $(GO) test -count=1 -timeout 25m $(PKGS)

## cluster: etcd (3 members), MinIO and 3 brokers in racks a/b/c as local
## processes under ./cluster-data (see docs/cluster.md); cluster-stop ends it.
cluster: build
	bash scripts/cluster.sh

cluster-stop:
	bash scripts/cluster-stop.sh

## image: the container image from this checkout (FROM scratch, offline).
image:
	bash scripts/image.sh $(IMAGE)

bench: build
	$(GO) run ./test/bench

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l . | grep -v '^tools/')" || { gofmt -l . ; exit 1; }
