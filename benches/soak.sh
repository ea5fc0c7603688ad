#!/usr/bin/env bash
# Soak: the load-test server (benches/load_server.rs, with the layer) under wrk at saturation on 127.0.0.1 only, for a bounded time,
# with a mix of valid, tampered, expired, unsigned and oversize deliveries in equal parts.
#
# Every request carries an `x-request-id` naming its kind, which the server copies onto the response
# (rejections included), so every answer is checked against what its request deserved: valid -> 200,
# tampered -> 400 no_matching_signature, expired -> 400 timestamp_too_old, unsigned -> 400
# missing_header, oversize -> 413 payload_too_large; no 5xx. The server's resident memory at the end must
# be within 10 % of its value after the warm-up, and every request but those in flight when wrk stops
# must be answered (no connection reset: rejections that leave the body unread say `Connection: close`).
#   bash benches/soak.sh       # DURATION=60 WARMUP=10 CONNECTIONS=32 THREADS=2 by default
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60}
WARMUP=${WARMUP:-10}
PORT=${PORT:-3941}
LIMIT=65536
SECRET=whsec_soak_test_only_not_a_real_secret

# CONNECTIONS, THREADS, wrk, and the load-test server built as $bin.
source benches/wrk.sh

work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The five kinds of request: bodies and headers, signed now (valid for the 300 s tolerance, longer than
# the run) except the expired one (an hour old).
python3 - "$work" "$SECRET" "$LIMIT" <<'PY'
import hashlib, hmac, json, sys, time
work, secret, limit = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
now = int(time.time())
def event(size):
    event = {"id": "evt_soak", "object": "event", "api_version": "2025-01-27.acacia", "created": now,
             "data": {"object": {"id": "in_soak", "object": "invoice", "amount_paid": 1999, "description": ""}},
             "livemode": False, "pending_webhooks": 1, "type": "invoice.paid"}
    event["data"]["object"]["description"] = "x" * (size - len(json.dumps(event, indent=2)))
    return json.dumps(event, indent=2).encode()
def sign(body, t):
    return "t=%d,v1=%s" % (t, hmac.new(secret, b"%d." % t + body, hashlib.sha256).hexdigest())
valid = event(2048)
tampered = valid.replace(b"1999", b"9999")
oversize = event(limit + 4096)
kinds = {
    "valid": (valid, sign(valid, now)),
    "tampered": (tampered, sign(valid, now)),
    "expired": (valid, sign(valid, now - 3600)),
    "unsigned": (valid, None),
    "oversize": (oversize, sign(oversize, now)),
}
lua = ["kinds = {%s}" % ", ".join('"%s"' % k for k in kinds), "bodies, signatures = {}, {}"]
for kind, (body, header) in kinds.items():
    open(f"{work}/{kind}.json", "wb").write(body)
    lua.append('do local f = io.open("%s/%s.json", "rb"); bodies["%s"] = f:read("*a"); f:close() end' % (work, kind, kind))
    if header:
        lua.append('signatures["%s"] = "%s"' % (kind, header))
open(f"{work}/kinds.lua", "w").write("\n".join(lua) + "\n")
PY

cat > "$work/soak.lua" <<LUA
dofile("$work/kinds.lua")
local expected = {
  valid = {200, ""}, tampered = {400, "no_matching_signature"}, expired = {400, "timestamp_too_old"},
  unsigned = {400, "missing_header"}, oversize = {413, "payload_too_large"},
}
local threads = {}
function setup(thread) table.insert(threads, thread) end

n, wrong, server_errors, unknown, first_wrong = 0, 0, 0, 0, ""
sent, answered = {}, {}
function request()
  n = n + 1
  local kind = kinds[(n % #kinds) + 1]
  sent[kind] = (sent[kind] or 0) + 1
  local headers = {["content-type"] = "application/json", ["x-request-id"] = kind .. "-" .. n}
  headers["stripe-signature"] = signatures[kind]
  return wrk.format("POST", "/webhook", headers, bodies[kind])
end

function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
  local kind = (headers["x-request-id"] or headers["X-Request-Id"] or ""):match("^(%a+)-")
  local want = kind and expected[kind]
  if not want then unknown = unknown + 1; return end
  answered[kind] = (answered[kind] or 0) + 1
  if status ~= want[1] or body:sub(1, #want[2]) ~= want[2] then
    wrong = wrong + 1
    if first_wrong == "" then first_wrong = kind .. " -> " .. status .. " " .. body:sub(1, 80) end
  end
end

function done(summary, latency, requests)
  local total = {wrong = 0, server_errors = 0, unknown = 0}
  local per_kind = {}
  local first = ""
  for _, thread in ipairs(threads) do
    for _, key in ipairs({"wrong", "server_errors", "unknown"}) do total[key] = total[key] + thread:get(key) end
    local answered, sent = thread:get("answered"), thread:get("sent")
    for _, kind in ipairs(kinds) do
      per_kind[kind] = per_kind[kind] or {0, 0}
      per_kind[kind][1] = per_kind[kind][1] + (sent[kind] or 0)
      per_kind[kind][2] = per_kind[kind][2] + (answered[kind] or 0)
    end
    if first == "" then first = thread:get("first_wrong") end
  end
  for _, kind in ipairs(kinds) do
    io.write(string.format("soak: %-9s sent %8d answered %8d\n", kind, per_kind[kind][1], per_kind[kind][2]))
  end
  io.write(string.format("soak: wrong answers %d, 5xx %d, answers without a request id %d, socket errors %d/%d/%d/%d (connect/read/write/timeout)\n",
    total.wrong, total.server_errors, total.unknown, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
  if first ~= "" then io.write("soak: first wrong answer: " .. first .. "\n") end
end
LUA

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

STRIPE_WEBHOOK_SECRET=$SECRET PORT=$PORT BODY_LIMIT=$LIMIT "$bin" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

echo "warm-up: ${WARMUP}s"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$work/soak.lua" "http://127.0.0.1:$PORT/webhook" >"$work/warmup.txt"
grep -q "wrong answers 0, 5xx 0, answers without a request id 0" "$work/warmup.txt" || { cat "$work/warmup.txt"; exit 1; }
rss_warm=$(rss "$server")
echo "resident memory after warm-up: ${rss_warm} KiB"

echo "soak: ${DURATION}s, $CONNECTIONS connections, $THREADS wrk threads, 127.0.0.1:$PORT, body limit $LIMIT"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$work/soak.lua" "http://127.0.0.1:$PORT/webhook" | tee "$work/soak.txt"
rss_end=$(rss "$server")
kill -0 "$server" || { echo "the server died" >&2; exit 1; }

status=0
grep -q "wrong answers 0, 5xx 0, answers without a request id 0" "$work/soak.txt" || { echo "FAIL: wrong answers" >&2; status=1; }
# Every request is answered, but for those still in flight when wrk stops (one per connection at most).
unanswered=0
for kind in valid tampered expired unsigned oversize; do
  read -r sent answered < <(awk -v k="$kind" '$2 == k {print $4, $6}' "$work/soak.txt")
  [ "${answered:-0}" -gt 0 ] || { echo "FAIL: no $kind request was answered" >&2; status=1; }
  unanswered=$(( unanswered + ${sent:-0} - ${answered:-0} ))
done
echo "soak: unanswered (in flight when wrk stopped): $unanswered"
[ "$unanswered" -le "$CONNECTIONS" ] || { echo "FAIL: $unanswered requests never answered" >&2; status=1; }
python3 - "$rss_warm" "$rss_end" <<'PY' || status=1
import sys
warm, end = int(sys.argv[1]), int(sys.argv[2])
change = (end - warm) / warm
print(f"resident memory: {warm} KiB after warm-up, {end} KiB at the end ({change:+.1%})")
if abs(change) > 0.10:
    print("FAIL: resident memory moved by more than 10 %", file=sys.stderr)
    sys.exit(1)
PY
[ $status = 0 ] && echo "soak: PASS"
exit $status
