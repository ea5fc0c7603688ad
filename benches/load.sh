#!/usr/bin/env bash
# End-to-end load: the load-test server (benches/load_server.rs) with and without StripeSignatureLayer, on 127.0.0.1 only, each loaded
# with wrk for a fixed time (2 KiB signed event, 32 connections), in alternating rounds. A third server,
# the same app computing one HMAC-SHA256 of each body and checking nothing (`--hmac-only`), is loaded in
# the same rounds: its ratio to the baseline is the floor, what the one HMAC pass every verifier makes
# costs end to end on this host. Prints requests/s of the three in each round, the ratios, and their
# medians.
#   bash benches/load.sh            # DURATION=10 ROUNDS=3 CONNECTIONS=32 THREADS=2 by default
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
SECRET=whsec_load_test_only_not_a_real_secret
# CONNECTIONS, THREADS, wrk, and the load-test server built as $bin.
source benches/wrk.sh

with_work_dir

# A 2 KiB pretty-printed invoice.paid event, signed now (valid for the 300 s tolerance): made again before
# every run, so that any number of rounds stays within it.
sign() {
python3 - "$work" "$SECRET" <<'PY'
import hashlib, hmac, json, sys, time
work, secret = sys.argv[1], sys.argv[2]
event = {"id": "evt_load", "object": "event", "api_version": "2025-01-27.acacia", "created": int(time.time()),
         "data": {"object": {"id": "in_load", "object": "invoice", "amount_paid": 1999, "customer": "cus_load",
                             "description": ""}},
         "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
         "type": "invoice.paid"}
body = json.dumps(event, indent=2)
event["data"]["object"]["description"] = "x" * (2048 - len(body))
body = json.dumps(event, indent=2).encode()
assert len(body) == 2048, len(body)
t = int(time.time())
signature = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
open(f"{work}/body.json", "wb").write(body)
open(f"{work}/header", "w").write(f"t={t},v1={signature}")
open(f"{work}/post.lua", "w").write(f"""
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["stripe-signature"] = "t={t},v1={signature}"
local f = io.open("{work}/body.json", "rb"); wrk.body = f:read("*a"); f:close()
""")
PY
}

start() {
  local name=$1 port=$2; shift 2
  STRIPE_WEBHOOK_SECRET=$SECRET PORT=$port "$bin" "$@" >"$work/$name.log" 2>&1 &
  servers+=($!)
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  # A request must verify before the runs count.
  sign
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$work/body.json" \
    -H "stripe-signature: $(cat "$work/header")" "http://127.0.0.1:$port/webhook")
  [ "$status" = 200 ] || { echo "$name: warm-up request got $status" >&2; cat "$work/$name.log" >&2; exit 1; }
}

load() {
  local name=$1 port=$2
  sign
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$work/post.lua" "http://127.0.0.1:$port/webhook" >"$work/$name.wrk"
  if grep -q "Non-2xx" "$work/$name.wrk"; then echo "$name: non-2xx responses" >&2; cat "$work/$name.wrk" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' "$work/$name.wrk"
}

start without-layer 3931 --without-layer
start with-layer 3932
start hmac-only 3933 --hmac-only
echo "2 KiB signed event, $CONNECTIONS connections, $THREADS wrk threads, $ROUNDS rounds of ${DURATION}s each, 127.0.0.1"
ratios=()
floors=()
to_floor=()
for round in $(seq "$ROUNDS"); do
  # Alternating, and in an order that turns with each round, so that a slow spell of a shared machine,
  # or a place in the round, favours no server.
  declare -A rps=()
  for turn in 0 1 2; do
    case $(( (round + turn) % 3 )) in
      0) rps[without]=$(load without-layer 3931) ;;
      1) rps[with]=$(load with-layer 3932) ;;
      2) rps[floor]=$(load hmac-only 3933) ;;
    esac
  done
  without=${rps[without]} with=${rps[with]} floor=${rps[floor]}
  read -r ratio floor_ratio of_floor < <(python3 -c "w, o, f = $with, $without, $floor; print(f'{w / o:.3f} {f / o:.3f} {w / f:.3f}')")
  ratios+=("$ratio")
  floors+=("$floor_ratio")
  to_floor+=("$of_floor")
  echo "round $round: without the layer $without requests/s, with the layer $with requests/s, ratio $ratio (HMAC only: $floor requests/s, ratio $floor_ratio; with / HMAC only $of_floor)"
done
python3 - "${ratios[*]}" "${floors[*]}" "${to_floor[*]}" <<'PY'
import statistics, sys
ratios, floors, to_floor = ([float(x) for x in arg.split()] for arg in sys.argv[1:])
print(f"median ratio (with / without): {statistics.median(ratios):.2f}")
print(f"median floor (HMAC only / without): {statistics.median(floors):.2f}")
print(f"median with the layer / HMAC only: {statistics.median(to_floor):.2f}")
PY
