#!/usr/bin/env bash
# Usage: readme_examples.sh BASE_URL SOURCE_DIR
#
# Runs the README's REST API example — the ```sh block between <!-- api-example --> and <!-- /api-example -->,
# verbatim except that http://127.0.0.1:8080 becomes BASE_URL — from SOURCE_DIR, as a reader pasting it would.
# Fails when a command fails, when an answer is not JSON, or when the results are missing.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BASE_URL SOURCE_DIR" >&2
    exit 2
fi
base=${1%/}
source_dir=$2
script=$(mktemp)
output=$(mktemp)
trap 'rm -f "$script" "$output"' EXIT

awk '/<!-- api-example -->/ {inside = 1; next} /<!-- \/api-example -->/ {inside = 0} inside && !/^```/' \
    "$source_dir/README.md" | sed "s#http://127.0.0.1:8080#$base#g" > "$script"
[[ -s $script ]] || { echo "README.md has no api-example block" >&2; exit 1; }
echo "# running the README's API example:"
cat "$script"

(cd "$source_dir" && timeout 120 bash -euo pipefail "$script") | tee "$output"

# The example follows the run's events to the end, prints the anomalies by rank (1, 2, 3) and the top one's detail.
grep -qx 'event: completed' "$output" || { echo "the example's event stream did not end with completed" >&2; exit 1; }
grep -q '"rank": 1' "$output" || { echo "the example printed no rank-1 result" >&2; exit 1; }
grep -q '"strategy": "large amounts per account"' "$output" || { echo "the example printed no transaction detail" >&2; exit 1; }
echo "README examples passed"
