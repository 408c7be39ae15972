#!/usr/bin/env python3
"""Latency of the read endpoints on a large ledger: the first page of /api/v1/transactions/anomalies and the detail
of random transactions, over keep-alive HTTP on loopback.

    scripts/with_test_servers.sh python3 bench/api_latency.py [--bin build/hr/apps/granska/granska]
        [--generator build/hr/bench/granska_generate_ledger] [--rows 1000000] [--requests 500]
        [--strategy quick-scan] [--db postgresql://...] [--skip-load] [--target-ms 50]

Generates the benchmark ledger (granska_generate_ledger), ingests and analyses it with `granska analyze --db`
(unless --skip-load: then the newest completed run of --strategy already in the database is read), starts
`granska serve` on a free port, checks the answers, then times --requests requests of each kind after a warm-up and
prints p50/p95/p99. Exits 1 when an answer is wrong or a p99 is over --target-ms. Python standard library only.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


class Api:
    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path):
        """(status, parsed body, milliseconds) of one GET on the kept-alive connection."""
        start = time.perf_counter()
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - start) * 1000.0
        return response.status, json.loads(body), elapsed

    def ok(self, path):
        status, body, _ = self.get(path)
        if status != 200:
            sys.exit(f"GET {path}: {status} {body}")
        return body


def wait_for_health(port, server, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"granska serve exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("granska serve did not answer /api/v1/health")


def load(args, work):
    ledger = os.path.join(work, f"ledger-{args.rows}.csv")
    if not os.path.exists(ledger):
        subprocess.run([args.generator, ledger, str(args.rows)], check=True)
    start = time.monotonic()
    subprocess.run([args.bin, "--db", args.db, "analyze", ledger, "--strategy", args.strategy, "--quiet"], check=True)
    print(f"ingest + analysis of {args.rows} rows ({args.strategy}): {time.monotonic() - start:.1f} s")


def check_anomalies(body, strategy):
    run = body["run"]
    if run["strategy"] != strategy or run["status"] != "completed":
        sys.exit(f"anomalies answered for the wrong run: {run}")
    if body["total"] != run["flagged_count"] or not body["items"]:
        sys.exit(f"anomalies: total {body['total']} but the run flagged {run['flagged_count']}")
    ranks = [item["rank"] for item in body["items"]]
    if ranks != sorted(ranks) or not all(item["flagged"] for item in body["items"]):
        sys.exit(f"anomalies are not flagged rows by rank: {ranks}")


def check_detail(body, transaction_id, run_id):
    if body["id"] != transaction_id or not body["runs"]:
        sys.exit(f"detail of {transaction_id}: {body}")
    if run_id not in [run["run_id"] for run in body["runs"]] or not body["runs"][0]["algorithms"]:
        sys.exit(f"detail of {transaction_id} lacks run {run_id}: {body['runs']}")


def timed(api, paths, check):
    for path in paths[:20]:  # warm-up: connections, caches, the planner's statistics
        api.get(path)
    times = []
    for path in paths:
        status, body, elapsed = api.get(path)
        if status != 200:
            sys.exit(f"GET {path}: {status} {body}")
        check(path, body)
        times.append(elapsed)
    return sorted(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="build/hr/apps/granska/granska")
    parser.add_argument("--generator", default="build/hr/bench/granska_generate_ledger")
    parser.add_argument("--db", default=os.environ.get("GRANSKA_TEST_POSTGRES_URL", ""))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--strategy", default="quick-scan")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target-ms", type=float, default=50.0)
    parser.add_argument("--skip-load", action="store_true", help="read the newest run of --strategy already stored")
    parser.add_argument("--work-dir", default="", help="where the ledger is written (default: a temporary folder)")
    args = parser.parse_args()
    if not args.db:
        sys.exit("no database: pass --db or run under scripts/with_test_servers.sh (GRANSKA_TEST_POSTGRES_URL)")

    work = args.work_dir or tempfile.mkdtemp(prefix="granska-api-latency-")
    os.makedirs(work, exist_ok=True)
    if not args.skip_load:
        load(args, work)

    port = free_port()
    server = subprocess.Popen(
        [args.bin, "--db", args.db, "serve", "--listen", f"127.0.0.1:{port}", "--upload-dir",
         os.path.join(work, "uploads")], stdout=subprocess.DEVNULL)
    try:
        wait_for_health(port, server)
        api = Api(port)
        anomalies_path = f"/api/v1/transactions/anomalies?strategy_id={args.strategy}"
        first = api.ok(anomalies_path)
        check_anomalies(first, args.strategy)
        run = first["run"]

        # Random transactions of the run's upload: a few pages at random offsets of its file order.
        rng = random.Random(args.seed)
        ids = []
        for _ in range(max(1, args.requests // 250)):
            offset = rng.randrange(0, max(1, args.rows - 250))
            page = api.ok(f"/api/v1/transactions?upload_id={run['upload_id']}&limit=250&offset={offset}")
            ids += [item["id"] for item in page["items"]]
        ids = [rng.choice(ids) for _ in range(args.requests)]

        results = {
            "anomalies (first page)": timed(api, [anomalies_path] * args.requests,
                                            lambda _, body: check_anomalies(body, args.strategy)),
            "transaction detail": timed(api, [f"/api/v1/transactions/{i}" for i in ids],
                                        lambda path, body: check_detail(body, path.rsplit("/", 1)[1], run["id"])),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)

    print(f"run {run['id']}: {run['flagged_count']} flagged; {args.requests} requests each, keep-alive, loopback")
    print(f"{'endpoint':<24} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    failed = False
    for name, times in results.items():
        p99 = percentile(times, 99)
        print(f"{name:<24} {percentile(times, 50):8.2f} {percentile(times, 95):8.2f} {p99:8.2f} {times[-1]:8.2f}")
        failed |= p99 > args.target_ms
    if failed:
        print(f"p99 over the {args.target_ms:g} ms target", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
