#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 10) from a seed corpus built from the oracle vectors.
#   bash fuzz/run.sh                 # all targets, 10 s each
#   SECONDS_PER_TARGET=600 bash fuzz/run.sh verify
# Uses the nightly toolchain with AddressSanitizer when rustup has one; otherwise the stable toolchain
# with RUSTC_BOOTSTRAP=1 and no sanitizer (the crate has no unsafe code; coverage guidance, debug
# assertions and overflow checks stay on). Installs cargo-fuzz if it is missing. A crash leaves its input
# in fuzz/artifacts/<target>/ and fails the script. Inputs are up to 256 KiB and an input slower than 2 s is a
# finding too (libFuzzer -timeout): every parser must stay linear.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${SECONDS_PER_TARGET:-10}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(header verify envelope layer)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install --locked cargo-fuzz >/dev/null
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
  sanitizer=address
else
  echo "== no nightly toolchain: stable with RUSTC_BOOTSTRAP=1, without a sanitizer"
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
  sanitizer=none
fi

python3 seed.py
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
  echo "== fuzz $target for ${seconds}s ($sanitizer sanitizer)"
  if ! "${fuzz[@]}" run --sanitizer "$sanitizer" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=262144 -timeout=2 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz $target failed; the input is in fuzz/artifacts/$target/ (keep it in fuzz/regressions/$target/)" >&2
    exit 1
  fi
  grep -E '^(Done|stat::(number_of_executed_units|new_units_added))' "$log"
done
