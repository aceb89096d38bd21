# ztx build, test and benchmark entry points. See README.md.
GO        ?= go
BIN       ?= bin
FUZZTIME  ?= 15s
BENCHCOUNT ?= 5
BENCHPKGS ?= ./crypto/... ./headers/... ./controlplane/... ./dataplane/...
# Pinned tools, run from the Go module proxy without touching go.mod.
BENCHSTAT   ?= golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test test-short generate check-generate fuzz bench lint clean demo demo-offline

all: build

build:
	$(GO) build -o $(BIN)/ztctl ./cmd/ztctl
	$(GO) build -o $(BIN)/ztnode ./cmd/ztnode

# The whole suite: unit, vector, fuzz-seed and (as root) privileged tests.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

test-short:
	$(GO) test -short ./...

# Rebuilds generated code: the bpf/ programs' objects and Go bindings
# (bpf2go, needs clang and llvm-strip).
generate:
	$(GO) generate ./...

# Fails when the committed bpf2go output is stale (also part of make test).
check-generate:
	$(GO) test -count=1 -run 'TestGeneratedUpToDate|TestHeaderMatchesGo|TestCountersMatchC' ./dataplane/xdp/

# Runs every fuzz target for FUZZTIME each.
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

# Benchmarks: BENCHCOUNT runs each, summarised (medians) by benchstat;
# then (as root) iperf3 over a virtual network against the raw underlay.
bench:
	scripts/bench.sh $(BENCHCOUNT) $(BENCHPKGS)
	scripts/bench-net.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The main job: a ztx network in network namespaces (root, two nodes
# behind NAT routers), made and torn down by scripts/demo.sh. Needs root.
demo: build
	scripts/demo.sh

# Without root: identities, a private planet, a moon and a decoded capture.
demo-offline: build
	scripts/demo-offline.sh

clean:
	rm -rf $(BIN)
