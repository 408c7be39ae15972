#!/usr/bin/env bash
# Installs what is missing, builds the release binary and runs it: `scripts/run.sh [granska args]`.
# Without arguments it serves the REST API on 127.0.0.1:8080 with the embedded SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target granska >&2

[ $# -eq 0 ] && set -- serve
exec build/release/apps/granska/granska "$@"
