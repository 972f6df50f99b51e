#!/usr/bin/env bash
# Runs every test: cargo-nextest when installed (a process per test, in parallel), else cargo test.
set -euo pipefail
scripts/clean-test-dbs.sh
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast "$@"
else
    cargo test --workspace --locked --no-fail-fast "$@"
fi
