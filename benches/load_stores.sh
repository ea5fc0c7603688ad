#!/usr/bin/env bash
# End-to-end load of the idempotency layer: the load-test server (benches/load_server.rs) with
# StripeSignatureLayer alone (the baseline of this script) and with IdempotencyLayer inside it on each
# store (`--store memory`, Redis, PostgreSQL), on 127.0.0.1 only, each loaded with wrk for a fixed time
# (2 KiB signed events, 32 connections), in alternating rounds. Every request is a distinct event, which the
# layer claims and completes: the events are signed beforehand in Python (wrk cannot compute an HMAC) and
# wrk's Lua cycles through them, each thread through its own share; if a run outlasts them, the requests
# past them are duplicates (a cheaper path), counted and printed. The baseline gets the same requests.
# Prints requests/s of each server in each round, each store's ratio to the baseline, and the medians.
#
#   bash benches/load_stores.sh      # DURATION=3 ROUNDS=3 EVENTS=50000*DURATION CONNECTIONS=32 THREADS=2 by default
#
# EVENTS: the distinct events signed for each run (2 KiB each, in a temporary directory and in wrk's
# memory); past them, requests are duplicates, which the script reports. 50,000 a second covers the
# 20,000 to 45,000 requests/s of the layer alone on a 2-core host.
#
# Redis and PostgreSQL are the ones of STRIPE_WEBHOOK_TEST_REDIS_URL and STRIPE_WEBHOOK_TEST_POSTGRES_URL;
# when either is unset, the script runs itself again under scripts/services.sh, which starts throwaway ones.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${STRIPE_WEBHOOK_TEST_REDIS_URL:-}" ] || [ -z "${STRIPE_WEBHOOK_TEST_POSTGRES_URL:-}" ]; then
  exec bash scripts/services.sh bash benches/load_stores.sh "$@"
fi
DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-3}
EVENTS=${EVENTS:-$((50000 * DURATION))}
SECRET=whsec_load_test_only_not_a_real_secret
LOAD_FEATURES=redis,postgres
# CONNECTIONS, THREADS, wrk, and the load-test server (with the stores) built as $bin.
source benches/wrk.sh

with_work_dir

# $EVENTS distinct 2 KiB pretty-printed invoice.paid events, ids `evt_<prefix>_<n>`, signed now, split
# into one file of fixed-size records (signature header, body) per wrk thread, and the Lua that cycles
# through them.
sign() {
python3 - "$work" "$SECRET" "$1" "${2:-$EVENTS}" "$THREADS" <<'PY'
import hashlib, hmac, json, sys, time
work, secret, prefix, events, threads = sys.argv[1], sys.argv[2].encode(), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
t = int(time.time())
def body(n):
    event = {"id": f"evt_{prefix}_{n:09d}", "object": "event", "api_version": "2025-01-27.acacia", "created": t,
             "data": {"object": {"id": f"in_{n:09d}", "object": "invoice", "amount_paid": 1999,
                                 "customer": "cus_load", "description": ""}},
             "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
             "type": "invoice.paid"}
    text = json.dumps(event, indent=2)
    event["data"]["object"]["description"] = "x" * (2048 - len(text))
    text = json.dumps(event, indent=2).encode()
    assert len(text) == 2048, len(text)
    return text
files = [open(f"{work}/events.{i}", "wb") for i in range(threads)]
first = None
for n in range(events):
    b = body(n)
    header = f"t={t},v1={hmac.new(secret, f'{t}.'.encode() + b, hashlib.sha256).hexdigest()}".encode()
    assert len(header) == 80
    files[n % threads].write(header + b)
    if first is None:
        first = (header, b)
for f in files:
    f.close()
open(f"{work}/first.json", "wb").write(first[1])
open(f"{work}/first.header", "wb").write(first[0])
PY
}

cat >"$work/cycle.lua" <<LUA
-- Each thread sends its own share of the signed events in turn (events.<thread>), then starts again
-- (duplicates from then on); done() prints how many requests were past the first pass.
local threads = {}
local counter = 1
function setup(thread)
  thread:set("tid", counter - 1)
  table.insert(threads, thread)
  counter = counter + 1
end
function init(args)
  local f = assert(io.open("$work/events." .. tid, "rb"))
  local data = f:read("*a")
  f:close()
  requests = {}
  local size = 80 + 2048
  for at = 1, #data, size do
    local header = data:sub(at, at + 79)
    local body = data:sub(at + 80, at + size - 1)
    table.insert(requests, wrk.format("POST", "/webhook",
      {["content-type"] = "application/json", ["stripe-signature"] = header}, body))
  end
  sent = 0
end
function request()
  local r = requests[(sent % #requests) + 1]
  sent = sent + 1
  return r
end
function done(summary, latency, requests)
  local past = 0
  for _, thread in ipairs(threads) do
    local sent, share = thread:get("sent"), #thread:get("requests")
    if sent > share then past = past + sent - share end
  end
  io.write(string.format("past the distinct events: %d\n", past))
end
LUA

port_of() { sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$work/$1.log"; }

declare -A ports=()
start() {
  local name=$1; shift
  STRIPE_WEBHOOK_SECRET=$SECRET PORT=0 "$bin" "$@" >"$work/$name.log" 2>&1 &
  servers+=($!)
  for _ in $(seq 100); do [ -n "$(port_of "$name")" ] && break; sleep 0.1; done
  ports[$name]=$(port_of "$name")
  [ -n "${ports[$name]}" ] || { echo "$name did not start" >&2; cat "$work/$name.log" >&2; exit 1; }
  # A request must verify (and be handled) before the runs count.
  sign "warm_${name}_$(date +%s%N)" 1
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$work/first.json" \
    -H "stripe-signature: $(cat "$work/first.header")" "http://127.0.0.1:${ports[$name]}/webhook")
  [ "$status" = 200 ] || { echo "$name: warm-up request got $status" >&2; cat "$work/$name.log" >&2; exit 1; }
}

# Prints "requests/s duplicates requests" of one run.
load() {
  local name=$1
  sign "${name}_$(date +%s%N)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$work/cycle.lua" "http://127.0.0.1:${ports[$name]}/webhook" >"$work/$name.wrk"
  if grep -q "Non-2xx" "$work/$name.wrk"; then echo "$name: non-2xx responses" >&2; cat "$work/$name.wrk" >&2; exit 1; fi
  local rps past total
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.wrk")
  past=$(awk '/past the distinct events/ {print $5}' "$work/$name.wrk")
  total=$(awk '/requests in/ {print $1}' "$work/$name.wrk")
  echo "$rps $past $total"
}

names=(layer memory redis postgres)
start layer
start memory --store memory --quiet
start redis --store "$STRIPE_WEBHOOK_TEST_REDIS_URL" --quiet
start postgres --store "$STRIPE_WEBHOOK_TEST_POSTGRES_URL" --quiet
echo "2 KiB signed events, each request a distinct event ($EVENTS per run), $CONNECTIONS connections, $THREADS wrk threads, $ROUNDS rounds of ${DURATION}s each, 127.0.0.1"
declare -A ratios=()
for round in $(seq "$ROUNDS"); do
  # Alternating, in an order that turns with each round, so that a slow spell of a shared machine, or a
  # place in the round, favours no server.
  declare -A rps=() past=()
  for turn in 0 1 2 3; do
    name=${names[$(( (round + turn) % 4 ))]}
    read -r rps[$name] past[$name] total < <(load "$name")
    [ "${past[$name]}" = 0 ] || echo "  $name: ${past[$name]} of $total requests were duplicates (past the $EVENTS events): raise EVENTS" >&2
  done
  line="round $round: layer alone ${rps[layer]} requests/s"
  for store in memory redis postgres; do
    ratio=$(python3 -c "print(f'{${rps[$store]} / ${rps[layer]}:.3f}')")
    ratios[$store]="${ratios[$store]:-} $ratio"
    line="$line, $store ${rps[$store]} ($ratio)"
  done
  echo "$line"
done
python3 - "${ratios[memory]}" "${ratios[redis]}" "${ratios[postgres]}" <<'PY'
import statistics, sys
for store, arg in zip(["memory", "Redis", "PostgreSQL"], sys.argv[1:]):
    print(f"median ratio with IdempotencyLayer on {store} / the layer alone: {statistics.median(float(x) for x in arg.split()):.2f}")
PY
