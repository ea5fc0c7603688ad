# Sourced by load.sh, load_stores.sh and soak.sh (from the project's root): wrk's connection and thread defaults, wrk
# itself (the Debian package, installed when missing), and the load-test server (benches/load_server.rs)
# built in release mode, whose path is left in `bin`. LOAD_CARGO_TARGET_DIR builds it in another target
# directory; LOAD_FEATURES (for example `redis,postgres`, as load_stores.sh sets) builds it with those
# features.
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi
fi
cargo build -q --release -p tower-stripe-webhook-benches --bin load-server ${LOAD_CARGO_TARGET_DIR:+--target-dir "$LOAD_CARGO_TARGET_DIR"} ${LOAD_FEATURES:+--features "$LOAD_FEATURES"}
bin=${LOAD_CARGO_TARGET_DIR:-target}/release/load-server

# A temporary directory, $work, and the servers a script starts, whose pids it adds to $servers: both gone
# when the script exits, however it exits.
with_work_dir() {
  work=$(mktemp -d)
  servers=()
  trap 'for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
}
