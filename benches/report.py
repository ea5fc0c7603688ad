#!/usr/bin/env python3
"""Prints the verify bench's medians (ns/op, MB/s) and the floors' ratios from target/criterion.

    cargo bench --bench verify && python3 benches/report.py
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
GROUPS = ["hmac_baseline", "verify", "verify_event", "reject_unsigned", "diagnose_within_budget",
          "diagnose_over_budget", "verify_rotation", "layer", "baseline_service", "layer_idempotent"]
SIZES = [512, 2048, 8192, 65536]
ADVERSARIAL = ["normal_event", "deep_nesting", "many_members", "many_short_strings", "long_escaped_string",
               "repeated_data_and_object", "numbers", "whitespace"]
ADVERSARIAL_SIZES = [65536, 1 << 20]


def median(*path):
    try:
        with open(os.path.join(ROOT, *map(str, path), "new", "estimates.json")) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None


def cell(ns, size):
    return "n/a" if ns is None else f"{ns:,.0f} ns ({size / ns * 1e3:,.0f} MB/s)"


def table(first, sizes, rows):
    print(f"| {first} | " + " | ".join(f"{s:,} B" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for name, cells in rows:
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()


m = {(g, s): median(g, s) for g in GROUPS for s in SIZES}
table("bench (criterion median)", SIZES, [(f"`{g}`", [cell(m[(g, s)], s) for s in SIZES]) for g in GROUPS])


def ratio(f, s):
    try:
        return f"{f(s):.2f}"
    except TypeError:
        return "n/a"


def over(a, b):
    return lambda s: m[(a, s)] / m[(b, s)]


floors = [
    ("verify / hmac_baseline (<= 1.10 at 2 KiB and up)", over("verify", "hmac_baseline")),
    ("verify_event / hmac_baseline (<= 2.3 at 2 KiB, <= 1.9 at 8 and 64 KiB)", over("verify_event", "hmac_baseline")),
    ("verify_rotation / verify (<= 2.1)", over("verify_rotation", "verify")),
    ("reject_unsigned / hmac_baseline (<= 1.10)", over("reject_unsigned", "hmac_baseline")),
    ("diagnose_within_budget / hmac_baseline (bounded)", over("diagnose_within_budget", "hmac_baseline")),
    ("diagnose_over_budget / hmac_baseline (as reject_unsigned)", over("diagnose_over_budget", "hmac_baseline")),
    ("(layer - baseline_service) / verify_event (<= 1.25 at 2 KiB)",
     lambda s: (m[("layer", s)] - m[("baseline_service", s)]) / m[("verify_event", s)]),
    ("(layer_idempotent - layer) / verify_event: the memory store's added cost (<= 0.25 at 2 KiB)",
     lambda s: (m[("layer_idempotent", s)] - m[("layer", s)]) / m[("verify_event", s)]),
]
table("ratio (floor)", SIZES, [(name, [ratio(f, s) for s in SIZES]) for name, f in floors])

a = {(k, s): median("adversarial", k, s) for k in ADVERSARIAL for s in ADVERSARIAL_SIZES}
table("adversarial: `verify_event` (median; x normal event, <= 3)", ADVERSARIAL_SIZES, [
    (f"`{k}`", [("n/a" if a[(k, s)] is None or a[("normal_event", s)] is None
                 else f"{a[(k, s)] / 1e3:,.1f} µs ({a[(k, s)] / a[('normal_event', s)]:.2f}x)")
                for s in ADVERSARIAL_SIZES])
    for k in ADVERSARIAL])
sys.exit(0)
