#!/usr/bin/env python3
"""Prints the verify bench's medians (ns/op, MB/s) and the issue's ratios from target/criterion.

    cargo bench --bench verify && python3 benches/report.py
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
GROUPS = ["hmac_baseline", "verify", "verify_event", "verify_rotation", "layer", "baseline_service"]
SIZES = [512, 2048, 8192, 65536]


def median(group, size):
    path = os.path.join(ROOT, group, str(size), "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None


m = {(g, s): median(g, s) for g in GROUPS for s in SIZES}
print("| bench | " + " | ".join(f"{s} B" for s in SIZES) + " |")
print("|---|" + "---:|" * len(SIZES))
for g in GROUPS:
    cells = []
    for s in SIZES:
        ns = m[(g, s)]
        cells.append("n/a" if ns is None else f"{ns:,.0f} ns ({s / ns * 1e3:,.0f} MB/s)")
    print(f"| `{g}` | " + " | ".join(cells) + " |")


def ratio(a, b, s):
    return None if m[(a, s)] is None or m[(b, s)] is None else m[(a, s)] / m[(b, s)]


print()
print("| ratio (target) | " + " | ".join(f"{s} B" for s in SIZES) + " |")
print("|---|" + "---:|" * len(SIZES))
rows = [
    ("verify / hmac_baseline (<= 1.20 at 512, <= 1.10 above)", lambda s: ratio("verify", "hmac_baseline", s)),
    ("verify_event / hmac_baseline (<= 2.0 at 512/2K, <= 1.5 at 8K/64K)", lambda s: ratio("verify_event", "hmac_baseline", s)),
    ("verify_rotation / verify (<= 2.1)", lambda s: ratio("verify_rotation", "verify", s)),
    ("(layer - baseline_service) / verify_event (<= 1.15)",
     lambda s: None if None in (m[("layer", s)], m[("baseline_service", s)], m[("verify_event", s)])
     else (m[("layer", s)] - m[("baseline_service", s)]) / m[("verify_event", s)]),
]
for name, f in rows:
    print(f"| {name} | " + " | ".join("n/a" if f(s) is None else f"{f(s):.2f}" for s in SIZES) + " |")
sys.exit(0)
