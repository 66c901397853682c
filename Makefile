# leakstorm — run `make` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: test
test: ## Run every test against a real Postgres (DATABASE_URL, or a throwaway local cluster)
	$(CARGO) build --workspace --bins   # the trace tests run the real service binaries
	scripts/with-postgres.sh $(CARGO) nextest run --workspace --no-fail-fast

.PHONY: lint
lint: ## rustfmt check and clippy with warnings denied (includes the no-detached-spawn guard)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

.PHONY: fmt
fmt: ## Format the code
	$(CARGO) fmt --all

.PHONY: build
build: ## Build every binary (debug)
	$(CARGO) build --workspace --bins

.PHONY: native
native: build ## Run the whole fleet without Docker: Postgres, Jaeger UI on :16686, the four services
	target/debug/leakstorm up

.PHONY: smoke
smoke: ## A handful of payments through the running fleet, with checks (k6)
	k6 run k6/smoke.js

.PHONY: replay-native
replay-native: ## The incident replay without Docker (full profile, ~5 min): reports/<run>/report.md
	$(CARGO) build --release --workspace --bins
	target/release/leakstorm replay --profile full

.PHONY: replay-quick
replay-quick: build ## The quick replay (under 3 min, what CI runs)
	target/debug/leakstorm replay --profile quick
