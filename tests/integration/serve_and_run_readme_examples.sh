#!/usr/bin/env bash
# Usage: serve_and_run_readme_examples.sh GRANSKA_BINARY SOURCE_DIR
#
# Starts `granska serve` on a free port with a temporary SQLite database, runs readme_examples.sh against it,
# then stops it with SIGTERM and expects exit code 0.
set -euo pipefail

granska=$1
source_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
server=
cleanup() {
    [[ -n $server ]] && kill -KILL "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the server picks a free port and prints it ("listening on http://127.0.0.1:PORT").
"$granska" serve --listen 127.0.0.1:0 --db "sqlite://$work/granska.db" --upload-dir "$work/uploads" \
    >"$work/serve.log" 2>&1 &
server=$!
base=
for _ in $(seq 1 600); do
    base=$(sed -n 's/.*listening on \(http:\/\/[0-9.]*:[0-9]*\).*/\1/p' "$work/serve.log" | head -n 1)
    [[ -n $base ]] && curl -sS -o /dev/null "$base/api/v1/health" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { echo "granska serve exited:" >&2; cat "$work/serve.log" >&2; exit 1; }
    base=
    sleep 0.1
done
[[ -n $base ]] || { echo "granska serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

bash "$here/readme_examples.sh" "$base" "$source_dir"

kill -TERM "$server"
code=0
wait "$server" || code=$?
server=
if [[ $code -ne 0 ]]; then
    echo "granska serve exited with $code after SIGTERM:" >&2
    cat "$work/serve.log" >&2
    exit 1
fi
