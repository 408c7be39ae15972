#!/usr/bin/env bash
# Usage: scripts/bench.sh [BENCHMARK ARGS...]    e.g. GRANSKA_BENCH_ROWS=200000 scripts/bench.sh
#
# Builds the release preset and runs the benchmarks against SQLite and a throw-away PostgreSQL
# (scripts/with_test_servers.sh). Ingest uses a generated 1 000 000-line ledger unless GRANSKA_BENCH_ROWS says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target granska_pipeline_benchmark >&2
exec bash scripts/with_test_servers.sh bash -c \
    'GRANSKA_BENCH_POSTGRES_URL="$GRANSKA_TEST_POSTGRES_URL" build/release/bench/granska_pipeline_benchmark "$@"' \
    bench "$@"
