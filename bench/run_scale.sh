#!/usr/bin/env bash
# The scale benchmark (bench/README.md, "Scale"): the ingest benchmark at 64 connections, first on
# an empty database, then on databases holding a large store's history (10^5 and 10^6 customers,
# 10^7 ledger entries), each followed by API reads (a customer's balance, a ledger page).
#
#   bash bench/run_scale.sh                          # about 15 min, most of it seeding
#   BENCH_SCALES="100000:1000000" bash bench/run_scale.sh   # a smaller history
#
# Settings (environment), besides run_ingest.sh's (BENCH_DURATION, BENCH_TMPDIR, ...):
#   BENCH_SCALES       "CUSTOMERS:ENTRIES ..." histories to measure after the empty baseline
#                      ("100000:10000000 1000000:10000000")
#   BENCH_BASE_CUSTOMERS  customers the baseline's orders are spread over (100000)
#   BENCH_SEED_DIR     where seeded databases are kept between runs
#                      (${BENCH_TMPDIR:-/tmp}/loyaltyd-scale-seeds); several GB each
#   BENCH_SCALE_CONNECTIONS  ingest load level (64)
#   BENCH_SEED_ORDER   the seeded history's order (loyaltyd_bench_seed --order): time (default,
#                      as a store takes orders) or customer (each customer's orders together,
#                      as seeds were made until session 13, 2026-11-26); part of the
#                      seed's file name
# Seeded databases are reused when present (delete BENCH_SEED_DIR to re-seed); every run works
# on a copy.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scales=${BENCH_SCALES:-100000:10000000 1000000:10000000}
base_customers=${BENCH_BASE_CUSTOMERS:-100000}
seed_dir=${BENCH_SEED_DIR:-${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/loyaltyd-scale-seeds}
conns=${BENCH_SCALE_CONNECTIONS:-64}
seed_order=${BENCH_SEED_ORDER:-time}
case $seed_order in time | customer) ;; *)
  echo "BENCH_SEED_ORDER: time or customer ('$seed_order')" >&2
  exit 2
  ;;
esac
build_dir=${BENCH_BUILD_DIR:-build-release}

log() { printf '[scale] %s\n' "$*" >&2; }

bash install/deps.sh >&2
LOYALTYD_TARGETS="loyaltyd_bench_seed" bash install/build.sh "$build_dir" \
  -DCMAKE_BUILD_TYPE=Release -DLOYALTYD_BUILD_TESTS=OFF >&2
case $build_dir in /*) ;; *) build_dir=$root/$build_dir ;; esac
mkdir -p "$seed_dir"

# run LABEL CUSTOMERS [SEED_DB]: one ingest run; keeps its report in $reports/LABEL.txt.
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
run() {
  local label=$1 customers=$2 seed_db=${3:-} reads=""
  [ -z "$seed_db" ] || reads="balance ledger"
  log "$label: ingest at $conns connections, $customers customers${seed_db:+, database $seed_db}"
  BENCH_SERVERS=loyaltyd BENCH_CONNECTIONS=$conns BENCH_CUSTOMERS=$customers \
    BENCH_SEED_DB=$seed_db BENCH_READS=$reads BENCH_BUILD_DIR=$build_dir \
    bash bench/run_ingest.sh >"$reports/$label.txt"
  cat "$reports/$label.txt" >&2
}

labels=()
run "empty" "$base_customers"
labels+=("empty")
for scale in $scales; do
  customers=${scale%%:*}
  entries=${scale##*:}
  db=$seed_dir/seed-$customers-$entries-$seed_order.db
  if [ ! -f "$db" ]; then
    log "seeding $db: $customers customers, $entries ledger entries, in $seed_order order"
    start=$SECONDS
    "$build_dir/bench/loyaltyd_bench_seed" --db "$db.tmp" --customers "$customers" \
      --entries "$entries" --order "$seed_order" >&2
    mv "$db.tmp" "$db"
    log "seeded in $((SECONDS - start)) s ($(du -h "$db" | cut -f1))"
  fi
  run "$customers-$entries" "$customers" "$db"
  labels+=("$customers-$entries")
done

# The summary: the ingest row of each run, its rate against the empty baseline, and the reads.
rate_of() { awk -v c="$conns" '$1 == c { print $2 }' "$reports/$1.txt"; }
# The warm-up's rate: the daemon's first seconds after its start (run_ingest.sh, BENCH_WARMUP).
cold_rate_of() { sed -n 's/^warm-up .*after the start: \([0-9]*\) requests\/s.*/\1/p' "$reports/$1.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "?" }'; }
read_field() {  # LABEL KIND MODE FIELD; KIND reads (saturated) or reads_paced
  sed -n "s/^$2 $3 .* $4 \([0-9.?]*\).*/\1/p" "$reports/$1.txt"
}
base_rate=$(rate_of empty)
base_cold=$(cold_rate_of empty)
echo
echo "loyaltyd scale benchmark: ingest at $conns connections, $(nproc) cores" \
  "(run_ingest.sh settings: ${BENCH_DURATION:-10} s per level)"
row='%-18s %10s %8s %6s %6s %6s | %8s %7s | %7s %7s %7s %7s | %7s %7s %7s %7s\n'
echo "$(printf '%60s' '')| cold start       | reads, saturated                | reads, paced"
# shellcheck disable=SC2059
printf "$row" database ingest_rps vs_empty p50_ms p99_ms rss_mb cold_rps vs_cold bal_p50 \
  bal_p99 led_p50 led_p99 bal_p50 bal_p99 led_p50 led_p99
for label in "${labels[@]}"; do
  line=$(awk -v c="$conns" '$1 == c' "$reports/$label.txt")
  rate=$(rate_of "$label")
  cold=$(cold_rate_of "$label")
  # shellcheck disable=SC2059
  printf "$row" "$label" "$rate" "$(ratio "$rate" "$base_rate")" "$(awk '{ print $5 }' <<<"$line")" \
    "$(awk '{ print $6 }' <<<"$line")" "$(awk '{ print $13 }' <<<"$line")" \
    "${cold:-?}" "$(ratio "$cold" "$base_cold")" \
    "$(read_field "$label" reads balance p50_ms)" "$(read_field "$label" reads balance p99_ms)" \
    "$(read_field "$label" reads ledger p50_ms)" "$(read_field "$label" reads ledger p99_ms)" \
    "$(read_field "$label" reads_paced balance p50_ms)" \
    "$(read_field "$label" reads_paced balance p99_ms)" \
    "$(read_field "$label" reads_paced ledger p50_ms)" \
    "$(read_field "$label" reads_paced ledger p99_ms)"
done
echo "database: empty, or CUSTOMERS-ENTRIES seeded by loyaltyd_bench_seed in $seed_order order; vs_empty:" \
  "ingest rate over the empty database's (target >= 0.80), after a warm-up of ${BENCH_WARMUP:-10} s (the" \
  "same load, drained; 0: none); cold_rps / vs_cold: the warm-up's own rate, the daemon's first" \
  "seconds after its start (seeded: right after the seed's copy); bal / led: GET a customer / its first ledger" \
  "page, customers drawn uniformly, from ${BENCH_READ_CONNECTIONS:-16} connections, saturated" \
  "(each sends again once answered) and paced (each waits ${BENCH_READ_PACE_MS:-10} ms between" \
  "answer and next request); target p99 < 5 ms."
