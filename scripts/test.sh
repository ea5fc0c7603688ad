#!/usr/bin/env bash
# The README's test command: every test, the Redis and PostgreSQL stores' included, against a throwaway
# Redis and PostgreSQL that scripts/services.sh starts (installing them first where missing) and stops.
#
#   bash scripts/test.sh                 # cargo test --all-features
#   bash scripts/test.sh --test idempotency_stores   # extra arguments go to cargo test
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/services.sh cargo test --all-features "$@"
