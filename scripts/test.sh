#!/usr/bin/env bash
# Usage: scripts/test.sh [CTEST ARGS...]     e.g. scripts/test.sh -R Store
#
# Installs what is missing (scripts/deps.sh), configures and builds the dev preset (build/dev: Debug, ASan+UBSan),
# starts throw-away PostgreSQL and Redis servers on loopback (scripts/with_test_servers.sh), runs every test with
# ctest --preset dev against them, then stops the servers and deletes their data. Exits with ctest's exit code.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake --preset dev
cmake --build --preset dev
exec bash scripts/with_test_servers.sh ctest --preset dev "$@"
