# sysrec: record a program's syscalls, emit and enforce a seccomp filter.
GO      ?= go
BIN     := bin
OUT     := demo-out

.PHONY: all build agent demo test fleet bench generate clean man stress corpus phases

all: build

COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null)

build:
	$(GO) build -ldflags "-X main.commit=$(COMMIT)" -o $(BIN)/sysrec ./cmd/sysrec
	$(GO) build -o $(BIN)/target ./testdata/target

# The Kubernetes node agent (agent/, its own module: client-go).
agent:
	cd agent && $(GO) build -o ../$(BIN)/sysrec-agent ./cmd/sysrec-agent

# record -> show -> emit -> enforce, on testdata/target (needs root).
demo: build
	@BIN=$(BIN) OUT=$(OUT) bash testdata/demo.sh

# Every test. As root with SYSREC_TEST_PRIVILEGED=1 (CI), tests that need
# root, BPF or a tool fail instead of skipping.
test:
	$(GO) vet ./...
	@GO=$(GO) bash testdata/test.sh

# The Kubernetes side: the agent/ module (node agent, SPO publishing,
# merge controller, deploy/ manifests) against a real API server in the
# test process and real containerd containers (root). Its own target: a
# cold build of the Kubernetes modules takes ~11 min on 2 cores.
fleet:
	cd agent && $(GO) vet ./...
	@cd agent && GO=$(GO) bash ../testdata/test.sh

# Benchmarks, the 10^7-input differential test of the compiler, the
# compiler comparison with libseccomp, the recording overhead (alone,
# and beside 1, 8 and 64 concurrent recordings), and what phase
# enforcement costs nginx (throughput, p99, start-up).
bench: build
	$(GO) test -run '^$$' -bench . ./emit ./reducer
	SYSREC_DIFF_INPUTS=10000000 $(GO) test -count=1 -v -run 'Differential|BalancedDispatch|Libseccomp' ./emit | grep -E 'inputs|profile|allow list'
	@BIN=$(BIN) bash testdata/bench/overhead.sh
	@BIN=$(BIN) bash testdata/nginx/bench.sh
	@BIN=$(BIN) bash testdata/bench/enforce.sh
	@BIN=$(BIN) bash testdata/bench/phases.sh
	SYSREC_FS_BENCH=1 $(GO) test -count=1 -v -run 'TestFilesOverhead|TestFilesProgramCost|TestFilesCounts' ./recorder | grep -v '^=== '
	SYSREC_FS_HELDOUT=1 $(GO) test -count=1 -v -run TestFilesHeldOut ./recorder | grep -v '^=== ' 
	SYSREC_SHARED_BENCH=1 $(GO) test -count=1 -v -timeout 30m -run TestSharedCost ./recorder | grep -v '^=== ' 

# The privileged suite 20 times in a row with two CPU-burning loops
# beside it (root); stops at the first failure.
stress:
	@GO=$(GO) bash testdata/stress.sh

# Man pages for sysrec and each command, into man/.
man: build
	$(BIN)/sysrec man --dir man

# The generalisation corpus (root, 4 to 7 min on 2 cores): 46 programs, each
# recorded on one input with files and ports on, run on held-out inputs
# at other paths (servers: another port, another request mix) and on
# reaching inputs, at every level; the report also goes to
# $(BIN)/corpus.json. Not part of make test (TestCorpusSmoke runs three
# programs there). It needs the Go toolchain and these Debian packages:
#   apt-get install -y coreutils findutils grep sed gawk diffutils patch file \
#     tar gzip xz-utils bzip2 zip rsync sqlite3 jq openssl git gcc bc bsdutils \
#     dash bash python3 perl lua5.4 nodejs nginx lighttpd redis-server memcached
corpus: build
	$(GO) run ./testdata/corpus -sysrec $(BIN)/sysrec -json $(BIN)/corpus.json

# The phase corpus (root, about 3 min on 2 cores; docs/phases.md): nginx
# (a master and two workers), redis, memcached, a Go net/http server and
# python3's http.server, each recorded once with the defaults (and again
# with --phases all) and held out under phase enforcement and under the
# profile's union: other
# request mixes, errors, an nginx reload and a killed worker, redis
# BGSAVE and BGREWRITEAOF; the report also goes to $(BIN)/phases.json.
# Not part of make test (TestPhaseAttack is). Debian packages: nginx
# redis-server memcached python3.
phases: build
	$(GO) run ./testdata/corpus -phases -sysrec $(BIN)/sysrec -json $(BIN)/phases.json

# Rebuild the eBPF object and bindings (apt-get install -y clang llvm libbpf-dev).
generate:
	$(GO) generate ./...

clean:
	rm -rf $(BIN) $(OUT) man
