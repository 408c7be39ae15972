#!/usr/bin/env bash
# `granska analyze` end to end through the real binary: output contract, exit codes, and the sample ledger
# in both CSV dialects. Usage: cli_analyze_test.sh GRANSKA_BINARY SOURCE_DIR
set -euo pipefail
granska="$1"
source_dir="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }

# The fixture: voucher A-11 (25 000,00 on 5460 and 1930) stands out on both accounts.
fixture="$source_dir/tests/fixtures/cli/small_ledger.csv"
"$granska" analyze "$fixture" --db sqlite://./db/g.db --strategy-file /dev/stdin --output out.csv -q <<'JSON'
{"name": "t", "algorithms": [{"name": "zscore", "params": {"min_group_size": 5}}],
 "threshold": {"type": "top_k", "value": 2}}
JSON
expect_eq "$(head -n 1 out.csv)" "external_id,score,flagged,zscore,reasons" "CSV header"
expect_eq "$(($(wc -l < out.csv) - 1))" "22" "one output row per transaction"
expect_eq "$(sed -n 2p out.csv | cut -d, -f1)" "A-1-1" "voucher-based external id, file order"
expect_eq "$(grep -c ',true,' out.csv)" "2" "top_k 2 flags two rows"
expect_eq "$(grep ',true,' out.csv | cut -d, -f1 | tr '\n' ' ')" "A-11-1 A-11-2 " "the large voucher is flagged"
grep -q 'A-11-1,.*Amount 25 000.00 .*account 5460' out.csv || fail "reason names amount and account"

"$granska" analyze "$fixture" --db sqlite://./db/g.db --output out.json -q
expect_eq "$(grep -c '"external_id"' out.json)" "22" "JSON output has every row"
head -c 1 out.json | grep -q '\[' || fail "JSON output is an array"

# A bad row is skipped and reported by default; the good rows are analysed.
printf 'id,date,account,amount\n1,2024-01-01,1930,12.00\n2,2024-01-02,1930,1x\n' > bad.csv
"$granska" analyze bad.csv --db sqlite://./db/g.db > out.txt 2> err.txt || fail "a bad row alone fails the command"
grep -q "2 rows read, 1 loaded, 1 rejected" err.txt || fail "report counts: $(cat err.txt)"
grep -q "error bad_amount at line 3 \[amount\]: '1x' is not an amount" err.txt || fail "report problem: $(cat err.txt)"
grep -q "bad.csv: 1 rows" out.txt || fail "summary counts the loaded rows: $(cat out.txt)"

# With --bad-rows reject_file: exit code 2 and one line naming file, line and column.
set +e
"$granska" analyze bad.csv --bad-rows reject_file --db sqlite://./db/g.db 2> err.txt
code=$?
set -e
expect_eq "$code" "2" "exit code for a bad amount under reject_file"
grep -q "^granska: error: bad.csv:3: column 'amount': " err.txt || fail "error line names file, line, column: $(cat err.txt)"

# validate: the report alone, as JSON, nothing stored.
"$granska" validate bad.csv --json > report.json || fail "validate of a file with one bad row"
jq -e '.rows_accepted == 1 and .rows_rejected == 1 and .problems[0].code == "bad_amount" and .problems[0].line == 3' \
    report.json > /dev/null || fail "validate --json report: $(cat report.json)"
set +e
"$granska" validate bad.csv --bad-rows reject_file > /dev/null 2>&1
code=$?
set -e
expect_eq "$code" "2" "validate exit code for a rejected file"

: > empty.csv
set +e
"$granska" analyze empty.csv --db sqlite://./db/g.db 2> err.txt
code=$?
head -c 4096 /dev/urandom > garbage.csv
"$granska" analyze garbage.csv --db sqlite://./db/g.db 2>> err.txt
code_garbage=$?
"$granska" analyze "$fixture" --db sqlite://./db/g.db --output out.xlsx 2>> err.txt
code_output=$?
echo '{"name": "t", "algorithms": [{"name": "zscore", "params": {"threshold": -1}}]}' > bad-strategy.json
"$granska" analyze "$fixture" --db sqlite://./db/g.db --strategy-file bad-strategy.json 2> strategy-err.txt
code_strategy=$?
set -e
expect_eq "$code" "2" "exit code for an empty file"
expect_eq "$code_garbage" "2" "exit code for binary garbage"
expect_eq "$code_output" "2" "exit code for an unsupported output extension"
expect_eq "$code_strategy" "2" "exit code for an invalid strategy"
grep -q "algorithms\[0\].params.threshold" strategy-err.txt || fail "strategy error names the field: $(cat strategy-err.txt)"

# The calendar flags: a bad --fiscal-year-start or --country is exit code 2 with one line naming the field; a good
# pair is kept in the upload's metadata (validate --json prints it).
printf 'id,date,account,amount\nM,2024-06-21,5460,100.00\nJ,2024-07-15,5460,200.00\n' > calendar.csv
set +e
"$granska" analyze calendar.csv --db sqlite://./db/g.db --fiscal-year-start 13-01 > /dev/null 2> err.txt
code_start=$?
"$granska" validate calendar.csv --country XX > /dev/null 2> country-err.txt
code_country=$?
set -e
expect_eq "$code_start" "2" "exit code for a bad --fiscal-year-start"
expect_eq "$(wc -l < err.txt)" "1" "one error line for a bad --fiscal-year-start"
grep -q "^granska: error: .*'fiscal_year_start'.*'13-01'" err.txt || fail "error names the field: $(cat err.txt)"
expect_eq "$code_country" "2" "exit code for an unknown --country"
grep -q "^granska: error: column 'country': .*'XX'" country-err.txt || fail "error names country: $(cat country-err.txt)"
"$granska" validate calendar.csv --json --country none --fiscal-year-start 07-01 > report.json
jq -e '.calendar == {"country": "none", "fiscal_year_start": "07-01"}' report.json > /dev/null ||
    fail "validate --json carries the calendar: $(cat report.json)"
"$granska" analyze calendar.csv --db sqlite://./db/g.db --country none --fiscal-year-start 07-01 -q ||
    fail "analyze with calendar flags"

# The sample ledger in both dialects: 50 080 rows each, and equal amounts give equal scores row by row.
ledger="$source_dir/../shared/data/ledger"
if [ -f "$ledger/ledger.csv" ] && [ -f "$ledger/ledger_semicolon.csv" ]; then
    "$granska" analyze "$ledger/ledger.csv" --db sqlite://./db/g.db --output comma.csv -q
    "$granska" analyze "$ledger/ledger_semicolon.csv" --db sqlite://./db/g.db --output semicolon.csv -q
    expect_eq "$(($(wc -l < comma.csv) - 1))" "50080" "ledger.csv rows"
    expect_eq "$(($(wc -l < semicolon.csv) - 1))" "50080" "ledger_semicolon.csv rows"
    cut -d, -f2-4 comma.csv > a.txt
    cut -d, -f2-4 semicolon.csv > b.txt
    cmp -s a.txt b.txt || fail "both dialects give the same scores and flags"
    expect_eq "$(grep -c ',true,' comma.csv)" "501" "top 1 % of 50 080 rows (ceil) is flagged"
else
    echo "SKIP (sample ledger): $ledger is absent; the fixture checks above ran" >&2
fi

if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all CLI checks passed"
