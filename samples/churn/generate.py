#!/usr/bin/env python3
"""Writes the demo's churn dataset: four batches, the third with a broken schema (an upstream renamed a column
and started sending 'n/a' for a numeric field). Fixed seed: the files are committed and reproducible."""
import csv
import random

PLANS = ["basic", "pro", "team"]
REGIONS = ["eu", "us", "apac"]


def rows(n, rng):
    for _ in range(n):
        tenure = rng.randint(1, 60)
        plan = rng.choice(PLANS)
        region = rng.choice(REGIONS)
        fee = round(10 + rng.random() * 90, 2)
        calls = rng.randint(0, 7)
        risk = calls * 0.5 - tenure * 0.06 + (0.8 if plan == "basic" else 0) + (0.7 if fee > 70 else 0)
        churned = "yes" if risk + (rng.random() - 0.5) * 0.8 > 0.3 else "no"
        yield tenure, plan, region, fee, calls, churned


def write(path, header, data, broken=False):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for i, (tenure, plan, region, fee, calls, churned) in enumerate(data):
            w.writerow([tenure, plan, region, "n/a" if broken and i % 4 == 0 else fee, calls, churned])


rng = random.Random(20261122)
good = ["tenure", "plan", "region", "monthly_fee", "support_calls", "churned"]
write("batch-01.csv", good, rows(800, rng))
write("batch-02.csv", good, rows(800, rng))
write("batch-03-bad.csv", ["tenure_months", "plan", "region", "monthly_fee", "support_calls", "churned"], rows(400, rng), broken=True)
write("batch-04.csv", good, rows(800, rng))
