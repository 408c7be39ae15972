#!/usr/bin/env bash
# Installs the Debian 12 packages Granska builds and tests with. Idempotent; silent when nothing is missing.
set -euo pipefail

packages=(
    # toolchain
    build-essential cmake ninja-build ccache mold pkg-config git
    clang lld libclang-rt-14-dev clang-format clang-tidy
    # libraries
    libsqlite3-dev libpqxx-dev libpq-dev libcpp-httplib-dev libssl-dev zlib1g-dev
    nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
    # parsers: JSON, xlsx (zip + XML), xls
    libsimdjson-dev libzip-dev libexpat1-dev libfreexl-dev
    # linear algebra for the ML detectors
    libeigen3-dev
    # the Redis Streams job queue
    libhiredis-dev
    # tests and benchmarks
    libgtest-dev libgmock-dev libbenchmark-dev curl jq
    # servers started by scripts/test.sh
    postgresql redis-server
)
# --bench: also what the benchmark scripts compare against (scikit-learn, numpy).
if [ "${1:-}" = "--bench" ]; then
    packages+=(python3-sklearn python3-numpy)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
# Keep the packaged PostgreSQL cluster from starting as a service: tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
    trap '"${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
