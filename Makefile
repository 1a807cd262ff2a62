# Specter build, test and benchmark entry points. Every target installs what
# it needs beyond Go modules (Debian packages) only when it is missing.

GO        ?= go
BIN       := bin/specter
PKGS      := ./...
FUZZTIME  ?= 30s
BENCHOUT  ?= bench-out
STATICCHECK_VERSION := v0.8.2
GOTESTSUM_VERSION   := v1.13.0

export CGO_ENABLED ?= 1

.PHONY: all build test test-deps deps-chromium report-demo demo bench bench-go bench-analyze bench-live bench-ebpf lint fuzz generate generate-testdata check-generate clean deps deps-bench deps-bpf deps-wrk deps-nats bench-fleet deps-h2 deps-realserver

all: build

# Debian packages the build and the tests need, installed only when missing:
# libpcap-dev for compiling tcpdump filters (capture/live, cgo), tcpreplay
# and iproute2 for the live-capture tests on veth pairs.
deps:
	@missing=""; for p in libpcap-dev tcpreplay iproute2; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The first build compiles SQLite (cgo, github.com/mattn/go-sqlite3), which
# takes minutes on a small machine: say so rather than sit silent.
build: deps
	@$(GO) list -trimpath -f '{{.Stale}}' github.com/mattn/go-sqlite3 2>/dev/null | grep -qx false || \
	  echo "note: compiling SQLite (cgo) for the first build; this can take several minutes"
	$(GO) build -trimpath -ldflags "-X main.version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o $(BIN) ./cmd/specter

# The HTTP/2 clients and server reassembly/http2's tests drive (curl,
# nghttp, nghttpd), tcpdump, with which cmd/specter's loopback tests capture
# grpc-go's examples and those tools, and protoc (compiling exported .proto
# files), installed only when missing; without them those tests skip.
deps-h2:
	@missing=""; for p in curl nghttp2-client nghttp2-server tcpdump protobuf-compiler; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The real servers cmd/internal/realserver drives with their own clients,
# tcpdump to capture them and tshark to read their ground truth (its
# editcap also injects TLS keys in tlsdecrypt's DSB tests), from Debian; Gitea and Mailpit (with
# its UI and its Playwright e2e suite, run in Debian's Chromium) built from
# the Go module proxy and npm into the user cache, each only when missing. Without them
# those tests skip with a reason.
GITEA_VERSION ?= 1.27.3
GITEA_BIN     ?= $(HOME)/.cache/specter/gitea-$(GITEA_VERSION)/gitea
# Mailpit's lock file pins packages the npm registry here does not serve
# (sass-embedded 1.108.1, rapidoc 12): the build resolves afresh, with the
# API-docs page's rapidoc at the newest served major.
MAILPIT_VERSION ?= 1.33.1
MAILPIT_DIR     ?= $(HOME)/.cache/specter/mailpit-$(MAILPIT_VERSION)
deps-realserver:
	@missing=""; for p in tcpdump tshark; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@if [ ! -x $(GITEA_BIN) ]; then \
	  echo "building Gitea $(GITEA_VERSION) from the Go module proxy (minutes, once)"; \
	  src=$$($(GO) mod download -json code.gitea.io/gitea@v$(GITEA_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  tmp=$$(mktemp -d) && cp -r "$$src/." $$tmp && chmod -R u+w $$tmp && mkdir -p $$(dirname $(GITEA_BIN)) && \
	  (cd $$tmp && GOFLAGS= $(GO) build -tags 'sqlite sqlite_unlock_notify' -ldflags '-X main.Version=$(GITEA_VERSION)' -o $(GITEA_BIN) . && \
	   cp -r options templates public $$(dirname $(GITEA_BIN))/) \
	    || echo "note: Gitea could not be built; its test will skip"; \
	  rm -rf $$tmp; \
	fi
	@if [ ! -x $(MAILPIT_DIR)/mailpit ] && command -v npm >/dev/null 2>&1; then \
	  echo "building Mailpit $(MAILPIT_VERSION), its web UI and e2e suite (minutes, once)"; \
	  src=$$($(GO) mod download -json github.com/axllent/mailpit@v$(MAILPIT_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  rm -rf $(MAILPIT_DIR) && mkdir -p $(MAILPIT_DIR) && cp -r "$$src" $(MAILPIT_DIR)/src && chmod -R u+w $(MAILPIT_DIR)/src && \
	  (cd $(MAILPIT_DIR)/src && rm -f package-lock.json && \
	   sed -i 's/"rapidoc": "\^12.0.0"/"rapidoc": "^9.3.8"/' package.json && \
	   npm install --no-audit --no-fund --loglevel=error >/dev/null && npm run package >/dev/null && \
	   CGO_ENABLED=0 $(GO) build -o ../mailpit .) \
	    || { echo "note: Mailpit could not be built; its test will skip"; rm -rf $(MAILPIT_DIR); }; \
	fi

SHARED     ?= ../shared
SPECBENCH  ?= $(HOME)/.cache/specbench/npm

# The node tools some tests drive (the shared bench's generator and scorers,
# redocly for lint, node-soap for the SOAP loopback test), installed from the npm registry into a cache outside
# the repo, only when missing. Without node or the network they are
# skipped, and so are the tests that need them.
test-deps: deps-chromium
	@if command -v npm >/dev/null 2>&1 && [ -f $(SHARED)/bench/setup.sh ]; then \
	  bash $(SHARED)/bench/setup.sh >/dev/null 2>&1 || echo "note: bench npm tools unavailable; tests using them will skip"; \
	  [ -x $(SPECBENCH)/node_modules/.bin/redocly ] || (cd $(SPECBENCH) && npm install --no-audit --no-fund --loglevel=error @redocly/cli >/dev/null 2>&1) || echo "note: redocly unavailable; its test will skip"; \
	fi
	@if command -v npm >/dev/null 2>&1; then \
	  [ -f $(SPECBENCH)/node_modules/soap/package.json ] || (mkdir -p $(SPECBENCH) && cd $(SPECBENCH) && npm install --no-audit --no-fund --loglevel=error soap@1.13.0 >/dev/null 2>&1) || echo "note: node-soap unavailable; the SOAP loopback test will skip"; \
	fi

# Headless Chromium for the report's browser test (report package), from
# Debian, only when missing; without it that test skips with a reason.
deps-chromium:
	@command -v chromium >/dev/null || { echo "installing chromium"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The tests, race detector on the packages with concurrency. Tests that need
# the shared corpus (../shared), node tools or root skip with a reason when
# these are absent. They run through gotestsum in go test's own output format
# (the "ok"/"FAIL" lines CI reads are unchanged), which ends with each skipped
# test and its reason, then a line counting tests, skips and failures; plain
# go test where gotestsum cannot be fetched.
GOTEST = $$($(GO) run gotest.tools/gotestsum@$(GOTESTSUM_VERSION) --version >/dev/null 2>&1 && \
	echo "$(GO) run gotest.tools/gotestsum@$(GOTESTSUM_VERSION) --format standard-quiet --" || echo "$(GO) test")
test: deps test-deps deps-nats deps-h2 deps-realserver
	$(GO) vet $(PKGS)
	$(GOTEST) -count=1 -timeout=30m $(PKGS)
	$(GOTEST) -count=1 -race ./reassembly/... ./capture/live/... ./store/fleet/...

# Build, analyze the bundled sample capture into an inventory database,
# print the inventory and the diff against the declared spec, and write the
# inferred OpenAPI document.
DEMO_DB := $(BENCHOUT)/demo.db
demo: build
	@mkdir -p $(BENCHOUT) && rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	@echo "== specter analyze --db $(DEMO_DB) --spec testdata/shop-declared.yaml testdata/demo.pcap"
	./$(BIN) analyze --db $(DEMO_DB) --spec testdata/shop-declared.yaml testdata/demo.pcap
	@echo
	@echo "== specter endpoints --db $(DEMO_DB)"
	./$(BIN) endpoints --db $(DEMO_DB)
	@echo
	@echo "== specter diff --db $(DEMO_DB) --spec testdata/shop-declared.yaml"
	./$(BIN) diff --db $(DEMO_DB) --spec testdata/shop-declared.yaml
	@echo
	@echo "== specter export --db $(DEMO_DB) -o $(BENCHOUT)/demo-openapi.yaml"
	./$(BIN) export --db $(DEMO_DB) -o $(BENCHOUT)/demo-openapi.yaml
	@echo "wrote $(BENCHOUT)/demo-openapi.yaml ($$(grep -c '^  /' $(BENCHOUT)/demo-openapi.yaml) paths)"

# The HTML report of the demo inventory (bench-out/report.html) and its
# screenshot in the README (docs/report.png), by headless Chromium.
CHROMIUM_FLAGS := --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync --hide-scrollbars
report-demo: build deps-chromium
	@mkdir -p $(BENCHOUT) docs && rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	./$(BIN) analyze --db $(DEMO_DB) --spec testdata/shop-declared.yaml testdata/demo.pcap >/dev/null
	./$(BIN) report --db $(DEMO_DB) --spec testdata/shop-declared.yaml -o $(BENCHOUT)/report.html
	@profile=$$(mktemp -d) && chromium $(CHROMIUM_FLAGS) --user-data-dir=$$profile --window-size=1100,1050 \
	  --screenshot=docs/report.png file://$(CURDIR)/$(BENCHOUT)/report.html 2>/dev/null; rm -rf $$profile
	@echo "wrote docs/report.png ($$(stat -c %s docs/report.png) bytes)"

# Regenerate the synthetic sample capture (deterministic: same bytes each
# time): bursts of 4 keep-alive connections about 8 minutes apart (some three
# hours of traffic), a tenth of the product listings without credentials.
generate-testdata:
	$(GO) run ./cmd/gencapture -size 600000 -seed 1 -conns 4 -per-conn 12 -gap 8m -anonymous 0.1 -hostile -o testdata/demo.pcap

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

# Debian's nats-server, for the fleet tests' second server variant (they
# also run an embedded server, which needs nothing), only when missing.
deps-nats:
	@command -v nats-server >/dev/null || { echo "installing nats-server"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null || echo "note: nats-server unavailable; its test variant will skip"; }

# The fleet's figures: deltas per second one aggregator applies and bytes
# per delta (store/fleet), and the end-to-end lag with 8 sensors replaying
# the speed capture at once (cmd/specter), into $(BENCHOUT).fleet.txt.
bench-fleet:
	@mkdir -p $(BENCHOUT)
	bash $(SHARED)/bench/speed-capture.sh $(BENCHOUT) 40
	$(GO) test -run='^$$' -bench=BenchmarkAggregate -benchtime=300x ./store/fleet/ | tee $(BENCHOUT).fleet.txt
	SPECTER_SPEED_CAPTURE=$(abspath $(BENCHOUT))/speed-40mb.pcap $(GO) test -run='^$$' -bench=BenchmarkFleetLag8 -benchtime=1x -timeout=30m ./cmd/specter | tee -a $(BENCHOUT).fleet.txt

deps-bench:
	@command -v tshark >/dev/null || { echo "installing tshark"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null; }

# Go micro-benchmarks, the end-to-end analyze benchmark and the eBPF
# tracer's overhead (root only; skipped with a message otherwise).
bench: bench-go bench-analyze bench-ebpf bench-fleet

bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem -count=5 ./capture/... ./reassembly/... ./infer/... ./store/... | tee $(BENCHOUT).go.txt

# Generates (never commits) captures of keep-alive JSON API traffic at two
# sizes and reports MB/s, exchanges/s and peak RSS of `specter analyze` on
# each, beside tshark on the smaller one; then issue #22's figures on the
# real-shaped captures of speed-capture.sh (built when missing): MB per
# CPU-second of analyze and analyze --db at 400 MB, peak RSS 400 MB / 40 MB,
# tshark -Y http.request's CPU on 40 MB beside specter's.
SPEEDRUNS ?= 3
bench-analyze: build deps-bench
	$(GO) run ./cmd/benchanalyze -out $(BENCHOUT) -bin $(BIN) -spec -db
	$(GO) run ./cmd/benchanalyze -out $(BENCHOUT) -bin $(BIN) -runs $(SPEEDRUNS) -speed $(SHARED)/bench/speed-capture.sh

# Live-capture soak: replays a synthetic capture onto a veth pair with
# tcpreplay at increasing rates while capture/live listens (root). The default
# run takes under 3 minutes; LIVEFLAGS="-rates 1000 -dur 10m" is the soak.
LIVEFLAGS ?=
bench-live: deps
	$(GO) run ./cmd/benchlive -out $(BENCHOUT) $(LIVEFLAGS)

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

# Requests/s of wrk against a loopback Go server with and without eBPF
# capture attached, and the share of requests captured. Needs root. Three
# runs: the bare tracer (kernel programs and a counting reader), then
# `specter capture --ebpf` itself with everything sharing both CPUs (every
# cycle specter spends is taken from the load), then with the load on CPU 0
# and specter on CPU 1 (a sensor with a CPU budget of its own, where only
# the programs run in the load's context).
bench-ebpf: build
	@if [ "$$(id -u)" != 0 ]; then echo "bench-ebpf: needs root to attach eBPF programs, skipped"; exit 0; fi; \
	$(MAKE) --no-print-directory deps-wrk && $(GO) build -o bin/benchebpf ./cmd/benchebpf && \
	{ ./bin/benchebpf -duration 5s -rounds 7 && \
	  ./bin/benchebpf -specter $(BIN) -duration 5s -rounds 7 && \
	  ./bin/benchebpf -specter $(BIN) -split -duration 5s -rounds 7 && \
	  ./bin/benchebpf -micro 300000 -rounds 5; } | tee $(BENCHOUT).ebpf.txt

clean:
	rm -rf bin $(BENCHOUT) $(BENCHOUT).*
