#!/usr/bin/env bash
# Background jobs end to end with the real binary, real PostgreSQL and a real Redis: `granska serve` (API only) and
# `granska worker` processes on the Redis Streams queue, and the embedded default (SQLite, local queue).
#   1. kill -9 of a worker in the middle of an analysis: another worker finishes it, with the rows of an undisturbed
#      run (counts and scores) and no duplicates;
#   2. Redis restarted (losing everything) while jobs are queued: nothing is lost, all complete;
#   3. three workers share 30 queued jobs: each runs once;
#   4. a job that always fails ends failed after 3 attempts with its error, and sits in the dead-letter stream;
#   5. a cancelled run stops and is cancelled, with no rows;
#   6. `granska serve` killed during processing on the embedded default: on restart the upload completes.
# Usage: jobs_test.sh GRANSKA_BINARY SOURCE_DIR. Needs GRANSKA_TEST_POSTGRES_URL (scripts/with_test_servers.sh);
# exits 77 (skipped) without it. Starts its own redis-server, which scenario 2 restarts.
set -euo pipefail
granska="$(realpath "$1")"
source_dir="$(realpath "$2")"
if [ -z "${GRANSKA_TEST_POSTGRES_URL:-}" ]; then
    echo "SKIPPED: GRANSKA_TEST_POSTGRES_URL is not set (run through scripts/with_test_servers.sh)" >&2
    exit 77
fi
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    [ -n "${redis_port:-}" ] && redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }
log() { echo "jobs_test: $*" >&2; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
    local seconds="$1"
    shift
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}

redis_port="$(free_port)"
start_redis() {
    redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$work" --daemonize yes \
        --logfile "$work/redis.log" >/dev/null
    wait_for 20 sh -c "redis-cli -p $redis_port ping 2>/dev/null | grep -q PONG"
}
start_redis

# Each scenario has its own database, Redis database and processes; end_scenario stops its processes.
scenario_pids=()
begin_scenario() {  # number name
    log "$1. $2"
    queue="redis://127.0.0.1:$redis_port/$1"
}
end_scenario() {
    for pid in "${scenario_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    scenario_pids=()
}

# A fresh PostgreSQL database for a scenario; prints its URL.
fresh_db() {
    psql "$GRANSKA_TEST_POSTGRES_URL" -qAtc "CREATE DATABASE $1" >/dev/null
    echo "${GRANSKA_TEST_POSTGRES_URL%/*}/$1"
}
sql() { psql "$1" -qAtc "$2"; }

# A generated ledger of $1 two-line vouchers (debit and credit), the same every time.
ledger() {
    awk -v n="$1" 'BEGIN {
        print "transaction_id,voucher_series,voucher_number,date,account,amount,text,user";
        srand(7);
        split("1930 2440 3041 4010 5010 5460 6110 6540 7010 7510", accounts, " ");
        for (v = 1; v <= n; v++) {
            day = 1 + (v % 28); month = 1 + (v % 12);
            amount = sprintf("%.2f", 100 + int(rand() * 900000) / 100);
            if (v % 997 == 0) amount = sprintf("%.2f", 250000 + v);
            account = accounts[2 + int(rand() * 9)];
            date = sprintf("2024-%02d-%02d", month, day);
            printf "%d,A,%d,%s,%s,%s,Voucher %d,U%d\n", 2 * v - 1, v, date, account, amount, v, v % 7;
            printf "%d,A,%d,%s,1930,-%s,Voucher %d,U%d\n", 2 * v, v, date, amount, v, v % 7;
        }
    }'
}

# Starts `granska serve` (API only unless $3 workers) on $1 with queue $2; sets api and serve_pid.
start_serve() {
    local port
    port="$(free_port)"
    "$granska" serve --db "$1" --queue "$2" --workers "${3:-0}" --listen "127.0.0.1:$port" \
        --upload-dir "$work/uploads" >>"$work/serve.log" 2>&1 &
    serve_pid=$!
    pids+=("$serve_pid")
    scenario_pids+=("$serve_pid")
    api="http://127.0.0.1:$port/api/v1"
    wait_for 60 curl -fsS "$api/health" -o /dev/null || { fail "serve did not start"; cat "$work/serve.log" >&2; }
}

# Starts a worker on database $1; sets worker_pid.
start_worker() {
    "$granska" worker --db "$1" --queue "$queue" --concurrency 1 --lease-seconds 3 \
        --stop-grace-seconds 5 >>"$work/worker.log" 2>&1 &
    worker_pid=$!
    pids+=("$worker_pid")
    scenario_pids+=("$worker_pid")
}

upload() {  # file [extra curl args...]: the upload's JSON
    local file="$1"
    shift
    curl -sS -F "file=@$file" "$@" "$api/upload"
}
run_status() { curl -sS "$api/analysis/$1/status" | jq -r .status; }
upload_status() { curl -sS "$api/upload/$1/status" | jq -r .status; }
run_is() { [ "$(run_status "$1")" == "$2" ]; }
upload_is() { [ "$(upload_status "$1")" == "$2" ]; }
start_run() {  # upload_id strategy: the run's id
    curl -sS -H 'Content-Type: application/json' -d "{\"upload_id\": \"$1\", \"strategy\": \"$2\"}" \
        "$api/analysis/run" | jq -r .run_id
}

# 0. Start-up: what a supervisor needs to tell apart (2: fix the set-up; 69: try again later).
log "0. exit codes at start-up"
exit_code() { set +e; "$@" >/dev/null 2>"$work/err.txt"; echo $?; set -e; }
expect_eq "$(exit_code "$granska" worker --db "sqlite://$work/w.db")" "2" "a worker on SQLite is refused"
grep -q "postgresql://" "$work/err.txt" || fail "the refusal says what to use: $(cat "$work/err.txt")"
expect_eq "$(exit_code "$granska" serve --db "sqlite://$work/w.db" --queue "redis://127.0.0.1:$redis_port/0")" "2" \
    "SQLite with Redis is refused"
grep -q "Redis queue needs a database every worker can reach" "$work/err.txt" || fail "says why: $(cat "$work/err.txt")"
expect_eq "$(exit_code "$granska" worker --db "$GRANSKA_TEST_POSTGRES_URL" --queue "redis://127.0.0.1:$(free_port)/0")" \
    "69" "an unreachable Redis is 69"
expect_eq "$(exit_code "$granska" worker --db "$GRANSKA_TEST_POSTGRES_URL" --queue "amqp://x")" "2" "an unknown queue is 2"

ledger 2500 >ledger.csv
ledger 60 >small.csv

# 1. kill -9 of a worker in the middle of an analysis.
begin_scenario 1 "a worker killed in the middle of an analysis"
db="$(fresh_db granska_jobs_kill)"
start_serve "$db" "$queue"
start_worker "$db"
worker_a=$worker_pid
upload_id="$(upload ledger.csv | jq -r .id)"
wait_for 120 upload_is "$upload_id" completed || fail "the upload was not processed: $(upload_status "$upload_id")"
run_id="$(start_run "$upload_id" ml-ensemble)"
analysing() { curl -sS "$api/analysis/$run_id/status" | jq -e '.status == "running" and .progress >= 0.1' >/dev/null; }
wait_for 120 analysing || fail "the run did not get going: $(curl -sS "$api/analysis/$run_id/status")"
kill -9 "$worker_a"
log "worker $worker_a killed at stage $(curl -sS "$api/analysis/$run_id/status" | jq -r .stage)"
start_worker "$db"
wait_for 300 run_is "$run_id" completed || fail "another worker did not finish the run: $(run_status "$run_id")"
expect_eq "$(curl -sS "$api/analysis/$run_id/status" | jq -r .job.attempts)" "2" "the run took a second attempt"
undisturbed="$(start_run "$upload_id" ml-ensemble)"
wait_for 300 run_is "$undisturbed" completed || fail "the undisturbed run did not complete"
rows=$((2500 * 2))
expect_eq "$(sql "$db" "SELECT count(*) FROM analysis_results WHERE run_id = '$run_id'")" "$rows" "one result per row"
expect_eq "$(sql "$db" "SELECT count(*) FROM anomaly_scores WHERE run_id = '$run_id'")" "$((rows * 3))" \
    "one score per row and algorithm"
expect_eq "$(sql "$db" "SELECT count(*) FROM (SELECT transaction_id, algorithm FROM anomaly_scores
                        WHERE run_id = '$run_id' GROUP BY 1, 2 HAVING count(*) > 1) d")" "0" "no duplicate scores"
expect_eq "$(sql "$db" "SELECT count(*) FROM (
    (SELECT transaction_id, algorithm, score FROM anomaly_scores WHERE run_id = '$run_id'
     EXCEPT SELECT transaction_id, algorithm, score FROM anomaly_scores WHERE run_id = '$undisturbed')
    UNION ALL
    (SELECT transaction_id, algorithm, score FROM anomaly_scores WHERE run_id = '$undisturbed'
     EXCEPT SELECT transaction_id, algorithm, score FROM anomaly_scores WHERE run_id = '$run_id')) d")" "0" \
    "the reclaimed run's scores equal the undisturbed run's"
expect_eq "$(sql "$db" "SELECT count(*) FROM (
    SELECT transaction_id, score, flagged, rank FROM analysis_results WHERE run_id = '$run_id'
    EXCEPT SELECT transaction_id, score, flagged, rank FROM analysis_results WHERE run_id = '$undisturbed') d")" "0" \
    "the reclaimed run's results equal the undisturbed run's"
end_scenario

# 2. Redis restarted, losing everything, while jobs are queued.
begin_scenario 2 "Redis restarted while jobs are queued"
db="$(fresh_db granska_jobs_redis)"
start_serve "$db" "$queue"
upload_id="$(upload small.csv | jq -r .id)"
start_worker "$db"
worker=$worker_pid
wait_for 60 upload_is "$upload_id" completed || fail "the small upload was not processed"
kill -STOP "$worker"  # queue while no worker takes anything
runs=()
for i in 1 2 3 4 5 6; do runs+=("$(start_run "$upload_id" quick-scan)"); done
redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
start_redis
kill -CONT "$worker"
for run in "${runs[@]}"; do
    wait_for 120 run_is "$run" completed || fail "run $run was lost with Redis: $(run_status "$run")"
done
end_scenario

# 3. Three workers share 30 queued jobs.
begin_scenario 3 "three workers share 30 jobs"
db="$(fresh_db granska_jobs_share)"
start_serve "$db" "$queue"
start_worker "$db"
workers=("$worker_pid")
upload_id="$(upload small.csv | jq -r .id)"
wait_for 60 upload_is "$upload_id" completed || fail "the small upload was not processed"
kill -STOP "${workers[0]}"
runs=()
for i in $(seq 30); do runs+=("$(start_run "$upload_id" quick-scan)"); done
start_worker "$db"
workers+=("$worker_pid")
start_worker "$db"
workers+=("$worker_pid")
kill -CONT "${workers[0]}"
for run in "${runs[@]}"; do
    wait_for 120 run_is "$run" completed || fail "run $run did not complete: $(run_status "$run")"
done
jobs_json="$(curl -sS "$api/jobs?kind=run_anomaly_detection&limit=500")"
expect_eq "$(jq -r .total <<<"$jobs_json")" "30" "one job per run"
expect_eq "$(jq '[.items[] | select(.status == "completed" and .attempts == 1)] | length' <<<"$jobs_json")" "30" \
    "every job completed at its first attempt"
expect_eq "$(sql "$db" "SELECT count(*) FROM analysis_results")" "$((30 * 120))" "each run wrote its rows once"
used="$(jq -r '[.items[].worker | split("/")[0]] | unique | length' <<<"$jobs_json")"
[ "$used" -ge 2 ] || fail "the jobs were shared by the workers: only $used worker process(es) ran them"
end_scenario

# 4. A job that always fails: the stored file is gone (an upload directory not shared with the worker).
begin_scenario 4 "a job that always fails"
db="$(fresh_db granska_jobs_fail)"
start_serve "$db" "$queue"
upload_id="$(upload small.csv | jq -r .id)"
rm -rf "$work/uploads"/*
start_worker "$db"
wait_for 120 upload_is "$upload_id" failed || fail "the upload did not fail: $(upload_status "$upload_id")"
status="$(curl -sS "$api/upload/$upload_id/status")"
expect_eq "$(jq -r .job.attempts <<<"$status")" "3" "three attempts"
expect_eq "$(jq -r .job.status <<<"$status")" "failed" "the job failed for good"
grep -q "upload directory" <<<"$(jq -r .job.error <<<"$status")" || fail "the job's error says why: $status"
job_id="$(jq -r .job.id <<<"$status")"
redis-cli -p "$redis_port" -n 4 xrange granska:jobs:dead - + | grep -q "$job_id" || fail "the job is in the dead-letter stream"

# 5. A cancelled run stops and is cancelled.
log "5. a cancelled run (the same processes)"
upload_id="$(upload ledger.csv | jq -r .id)"
wait_for 120 upload_is "$upload_id" completed || fail "the upload was not processed"
run_id="$(start_run "$upload_id" ml-ensemble)"
wait_for 120 run_is "$run_id" running || fail "the run did not start"
sleep 1
cancel="$(curl -sS -o /dev/null -w '%{http_code}' -X POST -d '' "$api/analysis/$run_id/cancel")"
expect_eq "$cancel" "202" "cancel answers 202"
wait_for 5 run_is "$run_id" cancelled || fail "the run was not cancelled within 5 s: $(run_status "$run_id")"
expect_eq "$(sql "$db" "SELECT count(*) FROM analysis_results WHERE run_id = '$run_id'")" "0" "a cancelled run has no rows"
end_scenario

# 6. The embedded default: `granska serve` killed while processing an upload.
begin_scenario 6 "serve killed during processing on the embedded default"
ledger 40000 >big.csv
sqlite_db="sqlite://$work/embedded/granska.db"
start_serve "$sqlite_db" local 1
upload_id="$(upload big.csv | jq -r .id)"
wait_for 60 upload_is "$upload_id" running || fail "the upload did not start processing"
kill -9 "$serve_pid"
start_serve "$sqlite_db" local 1
wait_for 300 upload_is "$upload_id" completed || fail "the upload did not complete after the restart: $(upload_status "$upload_id")"
expect_eq "$(curl -sS "$api/upload/$upload_id/status" | jq -r .row_count)" "80000" "every row once"
end_scenario

if [ "$failures" -gt 0 ]; then
    echo "--- serve.log" >&2
    tail -n 40 "$work/serve.log" >&2
    echo "--- worker.log" >&2
    tail -n 60 "$work/worker.log" >&2
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "jobs_test: all scenarios passed"
