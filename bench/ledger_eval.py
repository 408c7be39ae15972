#!/usr/bin/env python3
"""Scores `granska analyze --output OUT.csv` against the labelled sample ledger.

    python3 bench/ledger_eval.py OUT.csv ../shared/data/ledger/labels.csv [--flagged-share 0.01]

Prints ROC-AUC and average precision per line and per voucher (a voucher's score = its highest line score),
recall per anomaly kind at the given flagged share (of lines, and of vouchers), and the same for every
algorithm column of the output. Standard library only.

OUT.csv rows are matched to labels by external_id = transaction_id (ledger.csv has that column); a
SIE export's "<series>-<number>-<line>" ids are matched by voucher and line order.
"""

import argparse
import csv
import sys
from collections import defaultdict


def roc_auc(scores, labels):
    """Mann-Whitney U with average ranks for ties."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    positives = sum(labels)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    rank_sum = sum(r for r, y in zip(ranks, labels) if y)
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def average_precision(scores, labels):
    """Step-wise AP as scikit-learn computes it: ties form one threshold."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    positives = sum(labels)
    if positives == 0:
        return float("nan")
    ap = 0.0
    true_pos = 0
    seen = 0
    previous_recall = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            true_pos += labels[order[k]]
        seen = j + 1
        recall = true_pos / positives
        ap += (recall - previous_recall) * (true_pos / seen)
        previous_recall = recall
        i = j + 1
    return ap


def recall_by_kind(scores, kinds, share):
    """Share of each kind's items among the top `share` of items (ties broken by input order)."""
    count = max(1, int(round(len(scores) * share)))
    top = set(sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:count])
    totals = defaultdict(int)
    caught = defaultdict(int)
    for i, kind in enumerate(kinds):
        if kind == "normal":
            continue
        totals[kind] += 1
        caught[kind] += i in top
    return {kind: caught[kind] / totals[kind] for kind in totals}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("labels")
    parser.add_argument("--flagged-share", type=float, default=0.01)
    parser.add_argument("--columns", default="", help="comma-separated algorithm columns to report (default all)")
    parser.add_argument("--check-ensemble", action="store_true",
                        help="exit 1 unless the combined score's line and voucher ROC-AUC are at least every "
                             "algorithm column's")
    args = parser.parse_args()

    labels = {}
    by_voucher_line = {}
    line_in_voucher = defaultdict(int)
    with open(args.labels, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            labels[row["transaction_id"]] = row
            key = (row["voucher_series"], row["voucher_number"])
            line_in_voucher[key] += 1
            by_voucher_line[f"{key[0]}-{key[1]}-{line_in_voucher[key]}"] = row

    with open(args.output, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames
        rows = list(reader)
    columns = ["score"] + [c for c in fields if c not in ("external_id", "score", "flagged", "reasons")]
    if args.columns:
        wanted = args.columns.split(",")
        columns = [c for c in columns if c in wanted or c == "score"]

    matched = []
    for row in rows:
        label = labels.get(row["external_id"]) or by_voucher_line.get(row["external_id"])
        if label is None:
            sys.exit(f"no label for external_id {row['external_id']}")
        matched.append((row, label))

    kinds = [label["kind"] for _, label in matched]
    is_anomaly = [1 if label["is_anomaly"] == "1" else 0 for _, label in matched]
    voucher_keys = [(label["voucher_series"], label["voucher_number"]) for _, label in matched]
    voucher_index = {}
    for key in voucher_keys:
        voucher_index.setdefault(key, len(voucher_index))
    voucher_label = [0] * len(voucher_index)
    voucher_kind = ["normal"] * len(voucher_index)
    for key, y, kind in zip(voucher_keys, is_anomaly, kinds):
        v = voucher_index[key]
        if y:
            voucher_label[v] = 1
            voucher_kind[v] = kind

    all_kinds = sorted({k for k in kinds if k != "normal"})
    print(f"lines {len(matched)} ({sum(is_anomaly)} anomalous), vouchers {len(voucher_index)} "
          f"({sum(voucher_label)} anomalous); recall at {args.flagged_share:.1%} flagged")
    header = ["column", "line AUC", "line AP", "voucher AUC", "voucher AP"] + all_kinds
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    aucs = {}
    for column in columns:
        scores = [float(row[column]) for row, _ in matched]
        voucher_scores = [0.0] * len(voucher_index)
        for key, s in zip(voucher_keys, scores):
            v = voucher_index[key]
            voucher_scores[v] = max(voucher_scores[v], s)
        line_recall = recall_by_kind(scores, kinds, args.flagged_share)
        voucher_recall = recall_by_kind(voucher_scores, voucher_kind, args.flagged_share)
        aucs[column] = (roc_auc(scores, is_anomaly), roc_auc(voucher_scores, voucher_label))
        cells = [column, f"{aucs[column][0]:.3f}", f"{average_precision(scores, is_anomaly):.3f}",
                 f"{aucs[column][1]:.3f}",
                 f"{average_precision(voucher_scores, voucher_label):.3f}"]
        cells += [f"{line_recall.get(k, 0):.2f}/{voucher_recall.get(k, 0):.2f}" for k in all_kinds]
        print("| " + " | ".join(cells) + " |")
    print("(kind cells: recall of lines / of vouchers)")
    if args.check_ensemble:
        singles = {c: a for c, a in aucs.items() if c != "score"}
        for k, level in enumerate(("line", "voucher")):
            best = max(singles, key=lambda c: singles[c][k])
            verdict = "ok" if aucs["score"][k] >= singles[best][k] else "WORSE"
            print(f"ensemble {level} AUC {aucs['score'][k]:.3f} vs best single ({best}) {singles[best][k]:.3f}: "
                  f"{verdict}")
            if verdict != "ok":
                sys.exit(1)


if __name__ == "__main__":
    main()
