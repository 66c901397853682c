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
