#!/usr/bin/env bash
# Usage: scripts/with_test_servers.sh COMMAND [ARGS...]
#
# Starts a throw-away PostgreSQL (database granska_test) and Redis on free 127.0.0.1 ports, runs COMMAND with
# GRANSKA_TEST_POSTGRES_URL and GRANSKA_TEST_REDIS_URL set, then stops both servers and deletes their data, also
# when COMMAND fails or the script is interrupted. Exits with COMMAND's exit code.
#
# PostgreSQL refuses to run as root: as root, the servers run as the system user granska-test (created when
# missing); otherwise as the current user. Data, sockets and logs live in one mktemp -d directory.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

log() { echo "with_test_servers: $*" >&2; }

pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    log "no PostgreSQL server under /usr/lib/postgresql/*/bin (run scripts/deps.sh)"
    exit 1
fi
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    log "redis-server or redis-cli is missing (run scripts/deps.sh)"
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    server_user=granska-test
    if ! id -u "$server_user" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$server_user"
    fi
    as_server_user() { runuser -u "$server_user" -- "$@"; }
else
    server_user="$(id -un)"
    as_server_user() { "$@"; }
fi

# A free loopback port: one the kernel hands out (python3), else a random one nobody answers on (bash /dev/tcp).
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    log "no free port found"
    return 1
}

work_dir="$(mktemp -d -t granska-test-servers.XXXXXX)"
pg_data="$work_dir/pg/data"
pg_socket="$work_dir/pg/socket"
pg_log="$work_dir/pg/server.log"
redis_dir="$work_dir/redis"
pg_started=0
redis_started=0

cleanup() {
    if [ "$redis_started" -eq 1 ]; then
        redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 ||
            kill "$(cat "$redis_dir/redis.pid" 2>/dev/null)" 2>/dev/null || true
    fi
    if [ "$pg_started" -eq 1 ]; then
        as_server_user "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# mktemp makes the directory 0700; the server user must be able to reach its own subdirectories.
chmod 0755 "$work_dir"
mkdir -p "$work_dir/pg" "$pg_socket" "$redis_dir"
chown -R "$server_user" "$work_dir/pg" "$redis_dir"

pg_port="$(free_port)"
redis_port="$(free_port)"
while [ "$redis_port" = "$pg_port" ]; do redis_port="$(free_port)"; done

as_server_user "$pg_bin/initdb" -D "$pg_data" -U "$server_user" --auth=trust -E UTF8 --no-locale >/dev/null
pg_started=1
if ! as_server_user "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_socket -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=200" start >/dev/null; then
    log "PostgreSQL did not start:"
    cat "$pg_log" >&2 || true
    exit 1
fi
as_server_user "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U "$server_user" granska_test

redis_started=1
as_server_user redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$redis_dir" \
    --daemonize yes --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log"
for _ in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; then break; fi
    sleep 0.1
done
if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; then
    log "Redis did not start:"
    cat "$redis_dir/redis.log" >&2 || true
    exit 1
fi

export GRANSKA_TEST_POSTGRES_URL="postgresql://$server_user@127.0.0.1:$pg_port/granska_test"
export GRANSKA_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
log "PostgreSQL $GRANSKA_TEST_POSTGRES_URL, Redis $GRANSKA_TEST_REDIS_URL"

status=0
"$@" || status=$?
exit "$status"
