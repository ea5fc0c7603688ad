#!/usr/bin/env bash
# Starts a throwaway Redis (>= 7.0) and PostgreSQL on 127.0.0.1, on free non-default ports, in a temporary
# directory; runs the given command with their URLs in
#   STRIPE_WEBHOOK_TEST_REDIS_URL     redis://127.0.0.1:<port>/
#   STRIPE_WEBHOOK_TEST_POSTGRES_URL  postgres://postgres@127.0.0.1:<port>/postgres
# and stops both at the end, also when the command fails or is interrupted. Exits with the command's status.
#
#   bash scripts/services.sh cargo test --all-features --test idempotency_stores
#
# Installs Debian's redis-server and postgresql first where they are missing (as root, with apt-get).
# PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the `postgres` user (runuser).
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: bash scripts/services.sh COMMAND [ARGS...]" >&2
  exit 2
fi

say() { echo "services: $*" >&2; }
start_time=$(date +%s.%N)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    say "cannot install without root: install $* by hand"
    exit 1
  fi
}

apt_updated=
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get here: install $* (Redis >= 7.0, PostgreSQL) and put them on PATH"
    exit 1
  fi
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -q >/dev/null
    apt_updated=1
  fi
  say "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

redis_major() { redis-server --version 2>/dev/null | sed -n 's/.* v=\([0-9]*\)\..*/\1/p'; }
if ! command -v redis-server >/dev/null 2>&1 || [ "$(redis_major)" -lt 7 ]; then
  apt_install redis-server redis-tools
fi
if [ "$(redis_major)" -lt 7 ]; then
  say "redis-server $(redis-server --version) is older than 7.0 (SET ... NX GET needs 7.0)"
  exit 1
fi

pg_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}
pg_bin=$(pg_bindir)
if [ -z "$pg_bin" ]; then
  apt_install postgresql
  pg_bin=$(pg_bindir)
fi

# A port nothing listens on, from $1 upwards.
free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

dir=$(mktemp -d /tmp/stripe-webhook-services.XXXXXX)
chmod 755 "$dir"
redis_pid=
pg_user=
stop() {
  local status=$?
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ -f "$dir/pg/postmaster.pid" ]; then
    $pg_user "$pg_bin/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  say "stopped Redis and PostgreSQL"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Redis: no persistence, in the foreground of a background job so that its pid is ours.
redis_port=$(free_port "${STRIPE_WEBHOOK_REDIS_PORT:-56379}")
mkdir "$dir/redis"
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir/redis" --save '' --appendonly no \
  --logfile "$dir/redis/redis.log" --daemonize no &
redis_pid=$!

# PostgreSQL: a fresh cluster, trust authentication on 127.0.0.1 only, no fsync (the data is thrown away).
pg_port=$(free_port "${STRIPE_WEBHOOK_POSTGRES_PORT:-55432}")
mkdir "$dir/pg" "$dir/pg-socket"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir/pg" "$dir/pg-socket"
  pg_user="runuser -u postgres --"
fi
$pg_user "$pg_bin/initdb" -D "$dir/pg" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
$pg_user "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg-socket/postgres.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/pg-socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$dir/pg-socket/postgres.log" >&2; exit 1; }

for _ in $(seq 100); do
  if redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; then break; fi
  sleep 0.05
done
redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG ||
  { cat "$dir/redis/redis.log" >&2; say "Redis did not start"; exit 1; }

export STRIPE_WEBHOOK_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/"
export STRIPE_WEBHOOK_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
say "Redis $(redis_major).x at $STRIPE_WEBHOOK_TEST_REDIS_URL, PostgreSQL $("$pg_bin/pg_ctl" --version | awk '{print $3}') at $STRIPE_WEBHOOK_TEST_POSTGRES_URL, up in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start_time }") s"

"$@"
