#!/usr/bin/env bash
# What a quiet Ctm costs: CPU per minute of each service process and of the PostgreSQL sessions serving the demo
# database, and database transactions per minute, over a minute in which nothing happens.
# Usage: ./ctm demo, wait until it has finished, then: bench/idle/measure.sh [seconds, default 60]
# Reads the pids the demo left in .ctm/run/ and the demo database ctm_demo (./ctm infra env for the port).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
eval "$(./ctm infra env)"
seconds="${1:-60}"
database="${CTM_IDLE_DATABASE:-ctm_demo}"
tck=$(getconf CLK_TCK)
psql_q() { PGPASSWORD=ctm psql -h 127.0.0.1 -p "$CTM_PG_PORT" -U ctm -d postgres -qtAc "$1"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
backends() { psql_q "SELECT pid FROM pg_stat_activity WHERE datname = '$database' AND pid <> pg_backend_pid()"; }
xacts() { psql_q "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$database'"; }

declare -A before
services=()
for f in .ctm/run/*.pid; do
  s=$(basename "$f" .pid); pid=$(head -n 1 "$f" | tr -dc '0-9')
  [ -d "/proc/$pid" ] || { echo "$s (pid $pid) is not running: start the demo first" >&2; exit 1; }
  services+=("$s:$pid"); before[$s]=$(ticks "$pid")
done
declare -A pg_before
for b in $(backends); do pg_before[$b]=$(ticks "$b"); done
x0=$(xacts)
sleep "$seconds"
x1=$(xacts)

per_minute() { awk -v t="$1" -v tck="$tck" -v s="$seconds" 'BEGIN { printf "%.0f", t * 1000 / tck * 60 / s }'; }
echo "| process | CPU ms per minute |"
echo "| --- | ---: |"
total=0
for entry in "${services[@]}"; do
  s=${entry%%:*}; pid=${entry##*:}
  d=$(( $(ticks "$pid") - ${before[$s]} )); total=$((total + d))
  echo "| $s | $(per_minute "$d") |"
done
pg=0; n=0
for b in $(backends); do
  [ -n "${pg_before[$b]:-}" ] || continue
  pg=$(( pg + $(ticks "$b") - ${pg_before[$b]} )); n=$((n + 1))
done
echo "| PostgreSQL, the $n sessions of $database | $(per_minute "$pg") |"
echo "| all | $(per_minute $((total + pg))) |"
echo
echo "database transactions per minute: $(awk -v d=$((x1 - x0)) -v s="$seconds" 'BEGIN { printf "%.0f", d * 60 / s }')"
