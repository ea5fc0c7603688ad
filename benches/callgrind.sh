#!/usr/bin/env bash
# Instructions per call spent outside SHA-256 compression, for one bench id: a repeatable measure of the
# verifier's own overhead (callgrind counts instructions; under valgrind sha2 uses its portable code, so the
# compression itself is excluded from the figure).
#   bash benches/callgrind.sh 'verify/512$' [calls]
set -euo pipefail
cd "$(dirname "$0")/.."
id=$1
cargo bench -p tower-stripe-webhook-benches --bench verify --no-run >/dev/null 2>&1
bin=$(ls -t target/release/deps/verify-* | grep -v '\.d$' | head -1)
out=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --bench --profile-time 1 "$id" >/dev/null 2>&1
python3 - "$out" "$id" <<'PY'
import re, subprocess, sys
out, bench_id = sys.argv[1], sys.argv[2]
flat = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], capture_output=True, text=True).stdout
tree = subprocess.run(["callgrind_annotate", "--tree=caller", out], capture_output=True, text=True).stdout
def count(pattern, text):
    m = re.search(r"^\s*([\d,]+) .*" + pattern, text, re.M)
    return int(m.group(1).replace(",", "")) if m else 0
total = count(r"PROGRAM TOTALS", flat)
sha = count(r"sha2::sha256::compress256 ", flat)
# calls of the routine under test (its closure in benches/shared/routines.rs), from the caller tree lines
# "N (x%)  <  caller (Kx)"
calls = max((int(k.replace(",", "")) for k in re.findall(r"<.*routines::(?:all|routines)::\{\{closure\}\} \(([\d,]+)x\)", tree)), default=None)
harness = count(r"criterion::routine::Routine::profile", flat)
print(f"{bench_id}: {total:,} instructions, {sha:,} in SHA-256 compression, calls: {calls}")
if calls:
    print(f"  outside SHA-256: {(total - sha) / calls:,.0f} instructions per call (harness included)")
PY
rm -f "$out"
