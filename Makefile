# leakstorm — run `make` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo
COMPOSE ?= docker compose
ADMIN_TOKEN ?= admin_leakstorm_demo

# .cargo/config.toml builds with `--cfg tokio_unstable` (task accounting by spawn site). A RUSTFLAGS
# variable replaces those flags rather than adding to them: say so instead of silently losing them.
ifneq ($(RUSTFLAGS),)
ifeq ($(findstring tokio_unstable,$(RUSTFLAGS)),)
$(warning RUSTFLAGS replaces .cargo/config.toml's flags: add "--cfg tokio_unstable" to it, or task accounting by spawn site is compiled out)
endif
endif

# Docker targets check for a docker CLI, a running engine the user may use, and Compose v2 first,
# and say which is missing (the native path needs none of them).
define need_docker
	@scripts/need-docker.sh
endef

# The replay container writes ./reports as the user running make (not the image's uid 65532,
# which may not write a directory the host user created). Docker would create a missing bind
# mount source owned by root, so every target that mounts it creates it first.
export LEAKSTORM_UID ?= $(shell id -u)
export LEAKSTORM_GID ?= $(shell id -g)
export COMPOSE

# Native targets first check every tool they need (scripts/preflight.sh: one line per missing tool
# with its install command, and a stop before anything compiles). `build` runs the check of the
# target it is building for: a target-specific preflight_for is inherited by prerequisites.
preflight = @CARGO='$(CARGO)' scripts/preflight.sh
preflight_for := build

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: test
test: ## Run every test against a real Postgres (DATABASE_URL, or a throwaway local cluster)
	$(preflight) test
	$(CARGO) build --workspace --bins   # the trace tests run the real service binaries
	scripts/with-postgres.sh $(CARGO) nextest run --workspace --no-fail-fast
	$(CARGO) test --workspace --doc   # nextest does not run doctests

.PHONY: check-preflight
check-preflight: ## Test the preflight and the PostgreSQL lookup with shimmed tools (each one missing in turn; no build)
	scripts/tests/test_preflight.sh

.PHONY: check-taskleak
check-taskleak: ## taskleak as crates.io will see it: package, docs without warnings, dependency footprint, a build without tokio_unstable
	$(CARGO) package -p taskleak
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc -p taskleak --no-deps
	RUSTDOCFLAGS="-D warnings --cfg tokio_unstable" $(CARGO) doc -p taskleak --no-deps --all-features
	@deps=$$($(CARGO) tree -p taskleak -e normal --prefix none --format '{p}' | cut -d' ' -f1 | sort -u); \
	  echo "taskleak, default features, depends on:" $$deps; \
	  forbidden=$$(echo "$$deps" | grep -xE 'actix-web|axum|sqlx|opentelemetry.*|reqwest|tikv-jemallocator|tracing-opentelemetry' || true); \
	  if [ -n "$$forbidden" ]; then echo "taskleak's default features pull in: $$forbidden" >&2; exit 1; fi
	# Built without --cfg tokio_unstable (its own target directory): it must say it cannot see tasks.
	RUSTFLAGS= RUSTDOCFLAGS= CARGO_TARGET_DIR=target/uninstrumented $(CARGO) test -p taskleak-uninstrumented

.PHONY: lint
lint: ## rustfmt check and clippy with warnings denied (includes the no-detached-spawn guard)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

.PHONY: fmt
fmt: ## Format the code
	$(CARGO) fmt --all

.PHONY: build
build: ## Build every binary (debug)
	$(preflight) $(preflight_for)
	$(CARGO) build --workspace --bins

.PHONY: native
native: preflight_for := native
native: build ## Run the whole fleet without Docker: Postgres, Jaeger UI on :16686, the four services
	target/debug/leakstorm up

.PHONY: top
top: build ## The incident live in a terminal: heap, tasks, latency, pools, spawn sites per service (native or Docker fleet)
	target/debug/leakstorm top

.PHONY: diagnose
diagnose: build ## Which leak is it: kind, service and spawn site from the running fleet's signals (native or Docker)
	target/debug/leakstorm diagnose

.PHONY: drill
drill: preflight_for := drill
drill: build ## A game day: hidden leaks (or none) on fresh native fleets; answer at the prompt (AUTO=1: diagnose answers; SEED=n)
	target/debug/leakstorm drill $(if $(SEED),--seed $(SEED)) $(if $(AUTO),--auto)

.PHONY: smoke
smoke: ## A handful of payments through the running fleet, with checks (k6)
	$(preflight) smoke
	k6 run k6/smoke.js

.PHONY: replay-native
replay-native: ## The incident replay without Docker (full profile, ~7 min): reports/<run>/report.md
	$(preflight) replay-native
	$(CARGO) build --release --workspace --bins
	target/release/leakstorm replay --profile full

.PHONY: soak-traces
soak-traces: ## Trace store soak: 25,000 payments at 200/s through the native release fleet, then Jaeger checks
	$(preflight) soak-traces
	$(CARGO) build --release --workspace --bins
	scripts/soak-traces.py

.PHONY: replay-quick
replay-quick: preflight_for := replay-quick
replay-quick: build ## The quick replay (under 3 min, what CI runs)
	target/debug/leakstorm replay --profile quick

.PHONY: up
up: ## Build and start the Docker fleet, wait until healthy, print the URLs
	$(need_docker)
	$(COMPOSE) up --build --detach --wait
	@echo "gateway    http://127.0.0.1:8080   (API key sk_test_leakstorm_demo, local demo only)"
	@echo "Jaeger     http://127.0.0.1:16686"
	@echo "Grafana    http://127.0.0.1:3000    (dashboard: leakstorm — incident)"
	@echo "Prometheus http://127.0.0.1:9090/alerts"
	@echo "Next: make storm, then make fix"

.PHONY: down
down: ## Stop the Docker fleet (keeps volumes)
	$(need_docker)
	$(COMPOSE) --profile storm --profile replay down

.PHONY: storm
storm: ## Drive the incident: k6 storm against the gateway (RATE=20 DURATION=5m DEEP_SHARE=0.2)
	$(need_docker)
	@scripts/storm.sh

.PHONY: fix
fix: ## Switch risk to the fixed mode at run time (no restart)
	$(need_docker)
	@mkdir -p reports
	$(COMPOSE) run --rm --no-deps --entrypoint /usr/local/bin/leakstorm replay mode fixed --risk-url http://risk:8082

.PHONY: break
break: ## Switch risk back to the leaky mode
	$(need_docker)
	@mkdir -p reports
	$(COMPOSE) run --rm --no-deps --entrypoint /usr/local/bin/leakstorm replay mode leaky --risk-url http://risk:8082

.PHONY: scenario
scenario: ## The leak scenarios and their modes; switch one with NAME=unbounded-queue MODE=leaky
	$(need_docker)
	@mkdir -p reports
	$(COMPOSE) run --rm --no-deps --entrypoint /usr/local/bin/leakstorm replay scenario $(NAME) $(MODE) --payments-url http://payments:8081 --risk-url http://risk:8082 --ledger-url http://ledger:8083

.PHONY: replay
replay: ## The incident replay against the Docker fleet: reports/<run>/report.md (REPLAY_PROFILE=quick|full)
	$(need_docker)
	@mkdir -p reports
	$(COMPOSE) --profile replay run --rm replay
	@scripts/oom-check.sh

.PHONY: ps
ps: ## Containers, their health, and whether risk was OOM-killed
	$(need_docker)
	$(COMPOSE) ps
	@scripts/oom-check.sh

.PHONY: logs
logs: ## Follow the services' logs
	$(need_docker)
	$(COMPOSE) logs --follow gateway payments risk ledger

.PHONY: clean
clean: ## Remove the Docker fleet with its volumes, and local reports and run dirs
	-docker info >/dev/null 2>&1 && $(COMPOSE) --profile storm --profile replay down --volumes --remove-orphans
	rm -rf reports .leakstorm

.PHONY: rehearsal
rehearsal: ## The Docker path for real on this engine, with stand-in images built here (root; docs/rehearsal.md)
	$(need_docker)
	scripts/rehearsal/rehearse.py

.PHONY: check-compose
check-compose: ## Validate compose.yaml, the Prometheus files and the collector/Jaeger configs offline
	scripts/check_observability.py
	scripts/check_docker_path.py

# Plain kustomize: the overlays need no flag (deploy/k8s/**/files/ holds copies of compose's files).
KUSTOMIZE ?= kubectl kustomize
K8S_OVERLAY ?= local

.PHONY: check-k8s
check-k8s: ## Render every deploy/k8s overlay and validate it offline (copies in files/, kubernetes-validate, TestRun schema, cross-checks)
	scripts/check_k8s.py

.PHONY: k8s-sync
k8s-sync: ## Rewrite deploy/k8s/**/files/ from otel-config/, prometheus/, grafana/ and k6/ (after editing those)
	scripts/k8s_checks/sync_files.py

.PHONY: k8s-render
k8s-render: ## Print an overlay's manifests (K8S_OVERLAY=local|fixed|autoscaled-leak|storm)
	$(KUSTOMIZE) deploy/k8s/overlays/$(K8S_OVERLAY)

.PHONY: k8s-apply
k8s-apply: ## Apply an overlay to the current kubectl context (K8S_OVERLAY=local)
	kubectl apply -k deploy/k8s/overlays/$(K8S_OVERLAY)

.PHONY: k8s-storm
k8s-storm: ## Start (or restart) the distributed storm: the k6-operator TestRun in overlays/storm
	kubectl -n leakstorm delete testrun storm --ignore-not-found
	kubectl apply -k deploy/k8s/overlays/storm

.PHONY: verify
verify: ## Check the money invariants on the native fleet's database
	target/debug/leakstorm verify

.PHONY: tasks
tasks: ## Live tasks per spawn site on each native service, with where they are parked
	target/debug/leakstorm tasks

.PHONY: bench
bench: ## The cost of looking: telemetry off / traces / + task accounting / + console (release; ROUNDS=3 for medians, ~7 min per round)
	$(preflight) bench
	$(CARGO) build --release --workspace --bins
	target/release/leakstorm bench --rounds $(or $(ROUNDS),1)

.PHONY: chaos
chaos: preflight_for := chaos
chaos: build ## Kill each service with SIGKILL during payments with retries, then check the invariants
	target/debug/leakstorm chaos

.PHONY: fuzz
fuzz: preflight_for := fuzz
fuzz: build ## schemathesis against the native gateway's /openapi.json (seed 42)
	scripts/api-fuzz.sh
