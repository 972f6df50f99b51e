# The two commands of the README. Both install what is missing first (scripts/deps.sh).
#   make run   — build in release mode and start the demo on http://127.0.0.1:8080
#   make test  — start PostgreSQL/Redis where needed, check formatting and lints, run every test

SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test deps build lint fmt clean-test-dbs

run: deps
	$(CARGO) build --release -p countinghouse
	./target/release/countinghouse demo

test: deps
	source scripts/test-services.sh && \
	  $(CARGO) fmt --all --check && \
	  $(CARGO) clippy --workspace --all-targets --locked -- -D warnings && \
	  scripts/run-tests.sh

deps:
	@scripts/deps.sh

build:
	$(CARGO) build --workspace --all-targets

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Drops databases left behind by interrupted test runs.
clean-test-dbs:
	source scripts/test-services.sh && scripts/clean-test-dbs.sh
