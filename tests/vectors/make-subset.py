#!/usr/bin/env python3
"""Regenerates tests/vectors/oracle-subset.jsonl from the full oracle file.

Keeps, for every class, the smallest case of each distinct (description shape, node verdict, python verdict,
event verdicts), then tops each class up to six cases with its smallest remaining ones, so every class and
every kind of case in it stays represented, in under 1 MB.

    python3 tests/vectors/make-subset.py ../shared/oracle/public.jsonl > tests/vectors/oracle-subset.jsonl
"""
import json
import re
import sys

MIN_PER_CLASS = 6
best = {}
by_class = {}
with open(sys.argv[1], encoding="utf-8") as lines:
    for line in lines:
        case = json.loads(line)
        by_class.setdefault(case["class"], []).append(line)
        shape = re.sub(r"[0-9]+", "N", case["desc"])
        key = (case["class"], shape, case["node"]["ok"], case["python"]["ok"],
               case["node"]["event"]["ok"], case["python"]["event"]["ok"])
        if key not in best or len(line) < len(best[key]):
            best[key] = line
chosen = set(best.values())
for cls, lines in by_class.items():
    have = sum(1 for key in best if key[0] == cls)
    for line in sorted(lines, key=len):
        if have >= MIN_PER_CLASS:
            break
        if line not in chosen:
            chosen.add(line)
            have += 1
for line in sorted(chosen, key=lambda l: json.loads(l)["id"]):
    sys.stdout.write(line if line.endswith("\n") else line + "\n")
