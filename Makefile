# Specter build, test and benchmark entry points. Every target installs what
# it needs beyond Go modules (Debian packages) only when it is missing.

GO        ?= go
BIN       := bin/specter
PKGS      := ./...
FUZZTIME  ?= 30s
BENCHOUT  ?= bench-out
STATICCHECK_VERSION := v0.8.2

export CGO_ENABLED ?= 1

.PHONY: all build test demo bench bench-go bench-analyze bench-ebpf lint fuzz generate generate-testdata check-generate clean deps-bench deps-bpf deps-wrk

all: build

build:
	$(GO) build -trimpath -ldflags "-X main.version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o $(BIN) ./cmd/specter

# The tests, race detector on the packages with concurrency. Tests that need
# the shared corpus (../shared) or root skip with a reason when it is absent.
test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 $(PKGS)
	$(GO) test -count=1 -race ./reassembly/...

# Build, analyze the bundled sample capture, print what was found and write
# the inferred OpenAPI document.
demo: build
	@echo "== specter analyze testdata/demo.pcap"
	./$(BIN) analyze testdata/demo.pcap
	@echo
	@echo "== specter endpoints testdata/demo.pcap"
	./$(BIN) endpoints testdata/demo.pcap
	@echo
	@echo "== specter export -o $(BENCHOUT)/demo-openapi.yaml testdata/demo.pcap"
	@mkdir -p $(BENCHOUT)
	./$(BIN) export -o $(BENCHOUT)/demo-openapi.yaml testdata/demo.pcap
	@echo "wrote $(BENCHOUT)/demo-openapi.yaml ($$(grep -c '^  /' $(BENCHOUT)/demo-openapi.yaml) paths)"

# Regenerate the synthetic sample capture (deterministic: same bytes each time).
generate-testdata:
	$(GO) run ./cmd/gencapture -size 600000 -seed 1 -o testdata/demo.pcap

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

# Short runs of every fuzz target (FUZZTIME each); the seed corpora run in `make test`.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=10x $$pkg; \
	  done; \
	done

deps-bench:
	@command -v tshark >/dev/null || { echo "installing tshark"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null; }

# Go micro-benchmarks, the end-to-end analyze benchmark and the eBPF
# tracer's overhead (root only; skipped with a message otherwise).
bench: bench-go bench-analyze bench-ebpf

bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem -count=5 ./capture/... ./reassembly/... ./infer/... | tee $(BENCHOUT).go.txt

# Generates (never commits) captures of keep-alive JSON API traffic at two
# sizes and reports MB/s, exchanges/s and peak RSS of `specter analyze` on
# each, beside tshark on the smaller one.
bench-analyze: build deps-bench
	$(GO) run ./cmd/benchanalyze -out $(BENCHOUT) -bin $(BIN)

# The eBPF objects (bpf/specter_*_bpfel.{go,o}) are committed so that
# building needs no clang; these regenerate them from bpf/c with bpf2go.
deps-bpf:
	@command -v clang >/dev/null && test -f /usr/include/bpf/bpf_helpers.h || { echo "installing clang, llvm, libbpf-dev, bpftool"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang llvm libbpf-dev bpftool >/dev/null; }

generate: deps-bpf
	$(GO) generate ./bpf

# Fails when the committed eBPF objects differ from what bpf/c compiles to.
# Needs clang and libbpf-dev: skipped (successfully) where they are missing.
check-generate:
	@if ! command -v clang >/dev/null || ! test -f /usr/include/bpf/bpf_helpers.h; then echo "check-generate: clang or libbpf-dev missing, skipped"; exit 0; fi; \
	before=$$(sha256sum bpf/specter_*_bpfel.*); $(GO) generate ./bpf || exit 1; \
	if [ "$$before" != "$$(sha256sum bpf/specter_*_bpfel.*)" ]; then echo "check-generate: bpf/specter_*_bpfel.{go,o} were stale (now regenerated): commit them"; exit 1; fi; \
	echo "check-generate: bpf generated files are current"

deps-wrk:
	@command -v wrk >/dev/null || { echo "installing wrk"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# Requests/s of wrk against a loopback Go server with and without the eBPF
# tracer attached, and the share of requests it captured. Needs root.
bench-ebpf:
	@if [ "$$(id -u)" != 0 ]; then echo "bench-ebpf: needs root to attach eBPF programs, skipped"; exit 0; fi; \
	$(MAKE) --no-print-directory deps-wrk && $(GO) build -o bin/benchebpf ./cmd/benchebpf && ./bin/benchebpf -duration 5s -rounds 5 | tee $(BENCHOUT).ebpf.txt

clean:
	rm -rf bin $(BENCHOUT) $(BENCHOUT).*
