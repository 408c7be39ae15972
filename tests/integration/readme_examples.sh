#!/usr/bin/env bash
# Usage: readme_examples.sh BASE_URL CSV
#
# Runs the README's curl commands (upload, run, status, results) against a running server, with
# http://127.0.0.1:8080 replaced by BASE_URL and ledger.csv by CSV. Exits 1 on any non-2xx answer.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BASE_URL CSV" >&2
    exit 2
fi
base=${1%/}
csv=$2
body=$(mktemp)
trap 'rm -f "$body"' EXIT

# Runs one README command (its arguments exactly) and prints the body; fails on a non-2xx status.
call() {
    local code
    code=$(curl "$@" -o "$body" -w '%{http_code}') || { echo "curl failed: curl $*" >&2; exit 1; }
    cat "$body"
    echo
    if [[ $code != 2?? ]]; then
        echo "HTTP $code from: curl $*" >&2
        exit 1
    fi
}

# The value of a top-level string field in the last answer.
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$body"; }

echo "# upload"
call -sS -F "file=@$csv" "$base/api/v1/upload"
upload_id=$(field id)

echo "# run the default strategy"
call -sS -H 'Content-Type: application/json' -d "{\"upload_id\": \"$upload_id\"}" "$base/api/v1/analysis/run"
run_id=$(field run_id)

echo "# status (until completed)"
for _ in $(seq 1 600); do
    call -sS "$base/api/v1/analysis/$run_id/status"
    status=$(field status)
    [[ $status == completed ]] && break
    [[ $status == failed ]] && { echo "the run failed" >&2; exit 1; }
    sleep 0.2
done
[[ $status == completed ]] || { echo "the run did not complete" >&2; exit 1; }

echo "# results"
call -sS "$base/api/v1/analysis/$run_id/results?limit=10"
echo "README examples passed"
