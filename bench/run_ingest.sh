#!/usr/bin/env bash
# The ingest benchmark (bench/README.md): loyaltyd, then a bare cpp-httplib server tuned the same
# way, each given the same signed orders/paid load at 16, 64 and 256 connections.
#
#   bash bench/run_ingest.sh                       # 10 s per load level, about 2 min in all
#   BENCH_DURATION=30 bash bench/run_ingest.sh     # longer runs
#
# Settings (environment):
#   BENCH_DURATION        seconds per load level (10)
#   BENCH_CONNECTIONS     load levels ("16 64 256")
#   BENCH_WRK_THREADS     wrk threads (2)
#   BENCH_SERVER_THREADS  server.threads of both servers (256)
#   BENCH_BODIES          distinct signed orders to rotate (20000)
#   BENCH_CUSTOMERS       customers the orders are spread over (10000)
#   BENCH_SERVERS         which to measure ("loyaltyd bare")
#   BENCH_BUILD_DIR       Release build directory (build-release)
#   BENCH_TMPDIR          where the database goes (${TMPDIR:-/tmp}); a disk, not tmpfs, or fsync
#                         costs nothing
#   BENCH_DRAIN_SECONDS   how long to wait at the end for the backlog to drain (60)
#   BENCH_WARMUP          seconds of load loyaltyd gets at the first level's connections before
#                         the measured levels (10; 0: none), then its backlog drains. The
#                         daemon's first seconds grow a new WAL file page by page and fill its
#                         caches, and on a copied seed database also follow the copy of
#                         gigabytes: they measure the start, not the store (bench/README.md,
#                         "Warm-up"). The warm-up's own rate is reported as the cold start.
#   BENCH_KEEP=1          keep the scratch directory (config, database, logs, wrk output)
#   BENCH_SEED_DB         start loyaltyd on a copy of this database (bench/run_scale.sh makes
#                         them with loyaltyd_bench_seed) instead of an empty one
#   BENCH_READS           API reads to measure after the ingest levels ("balance ledger"; none
#                         by default): reads.lua over customer ids 1..BENCH_CUSTOMERS, which
#                         exist in a seeded database
#   BENCH_READ_CONNECTIONS  connections for the reads (16)
#   BENCH_READ_PACE_MS    each read mode runs twice: saturated (each connection sends again as
#                         soon as answered), then paced, each connection waiting this many ms
#                         between answer and next request (10: at most 1,600 reads/s at 16
#                         connections); 0 skips the paced run
#
# Traffic goes to 127.0.0.1 only; every step is bounded in time; the servers it started are
# stopped whatever happens.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

duration=${BENCH_DURATION:-10}
connections=${BENCH_CONNECTIONS:-16 64 256}
wrk_threads=${BENCH_WRK_THREADS:-2}
server_threads=${BENCH_SERVER_THREADS:-256}
bodies=${BENCH_BODIES:-20000}
customers=${BENCH_CUSTOMERS:-10000}
servers=${BENCH_SERVERS:-loyaltyd bare}
build_dir=${BENCH_BUILD_DIR:-build-release}
drain_seconds=${BENCH_DRAIN_SECONDS:-60}
warmup=${BENCH_WARMUP:-10}
seed_db=${BENCH_SEED_DB:-}
reads=${BENCH_READS:-}
read_connections=${BENCH_READ_CONNECTIONS:-16}
read_pace_ms=${BENCH_READ_PACE_MS:-10}
[ -z "$seed_db" ] || [ -f "$seed_db" ] || { echo "BENCH_SEED_DB: no file $seed_db" >&2; exit 2; }
[[ $warmup =~ ^[0-9]+$ ]] || { echo "BENCH_WARMUP: seconds, a whole number ('$warmup')" >&2; exit 2; }
warmup=$((10#$warmup))
read -r first_connections _ <<<"$connections"

shop_domain=bench-shop.myshopify.com
secret=bench-webhook-secret-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
token=bench-admin-token-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# --- Build -------------------------------------------------------------------------------------
targets="loyaltyd_bare_server loyaltyd_make_payloads"
[[ " $servers " != *" loyaltyd "* ]] || targets+=" loyaltyd"
bash install/deps.sh >&2
LOYALTYD_TARGETS=$targets bash install/build.sh "$build_dir" \
  -DCMAKE_BUILD_TYPE=Release -DLOYALTYD_BUILD_TESTS=OFF >&2
case $build_dir in /*) ;; *) build_dir=$root/$build_dir ;; esac

# --- Scratch space, cleanup, helpers -----------------------------------------------------------
work=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/loyaltyd-bench.XXXXXX")
server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 300); do  # up to 30 s to drain
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    log "server $server_pid still running 30 s after SIGTERM; killing it"
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  stop_server
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fs_type=$(stat -f -c %T "$work")
log "scratch directory $work ($fs_type)"
[ "$fs_type" != tmpfs ] || log "warning: $work is on tmpfs, where fsync is free; set BENCH_TMPDIR"

# A loopback port nothing answers on, outside the kernel's ephemeral range: a port in that
# range can be a client socket's (wrk's, curl's), which nothing answers on but which makes the
# daemon's listen fail with "address in use" (it did, once in six scale runs). Below the range
# when there is room, else above it. (Should something bind it in between, loyaltyd refuses to
# start rather than share it.)
free_port() {
  local port low=32768 high=60999 from to
  { read -r low high </proc/sys/net/ipv4/ip_local_port_range; } 2>/dev/null || true
  if [ "$low" -gt 11024 ]; then
    from=10000 to=$low
  elif [ "$high" -lt 64511 ]; then
    from=$((high + 1)) to=65536
  else
    die "no ports outside the ephemeral range ($low-$high, /proc/sys/net/ipv4/ip_local_port_range)"
  fi
  for _ in $(seq 1 100); do
    port=$((from + RANDOM % (to - from)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

# Polls URL until it answers 200 while the server lives, for at most 15 s.
wait_ready() {
  for _ in $(seq 1 150); do
    kill -0 "$server_pid" 2>/dev/null || return 1
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# loyaltyd's inbox counts from GET /api/v1/stats: "pending processed failed ignored" ("?" for
# each it cannot say).
inbox_counts() {
  local json key value out=""
  json=$(curl -fsS --max-time 5 -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/stats" 2>/dev/null) || json=""
  for key in pending processed failed ignored; do
    value=$(grep -o "\"$key\" *: *[0-9]*" <<<"$json" | grep -o '[0-9]*$' || true)
    out+="${value:-?} "
  done
  echo "${out% }"
}

# run_wrk NAME CONNECTIONS URL RUN_ID [SECONDS]: one load level (SECONDS: BENCH_DURATION); prints
# its BENCH fields (k=v ...).
run_wrk() {
  local out=$work/wrk-$1-$2-$4.txt seconds=${5:-$duration}
  log "$1: $2 connections for ${seconds} s"
  timeout --foreground $((seconds + 60)) wrk -t"$wrk_threads" -c"$2" -d"${seconds}s" --timeout 2s \
    -s bench/ingest.lua "$3" -- "$work/payloads.dat" "$4" "$wrk_threads" >"$out" 2>&1 ||
    die "wrk failed against $1 at $2 connections:$(printf '\n'; cat "$out")"
  grep '^BENCH ' "$out" | sed 's/^BENCH //' || die "no BENCH line in $out"
}

# field NAME "k=v k=v ..." prints v, or "?" when NAME is absent.
field() {
  local kv
  for kv in $2; do
    if [ "${kv%%=*}" = "$1" ]; then
      echo "${kv#*=}"
      return 0
    fi
  done
  echo "?"
}

# Peak resident memory of the running server so far (VmHWM), in MiB.
peak_rss_mb() {
  awk '/^VmHWM:/ { printf "%.0f", $2 / 1024; found = 1 } END { if (!found) print "?" }' \
    "/proc/$server_pid/status" 2>/dev/null || echo "?"
}

# --- The two servers ---------------------------------------------------------------------------
declare -A result  # result[loyaltyd|bare,CONNS]: BENCH fields; result[backlog,CONNS]: pending
run_index=0        # each wrk run gets its own event-id prefix
ok_total=0
in_flight_total=0  # wrk stops without reading the answers in flight: at most one per connection
counts=""
drain_note="loyaltyd not measured"
pending="?" processed="?" failed="?" ignored="?"

# ingest_level KEY CONNECTIONS SECONDS: one load level against loyaltyd, its results kept under
# result[*,KEY]; then waits (bounded) for the backlog to drain. Sets `counts`.
ingest_level() {
  local key=$1 c=$2 ok drain_start label=$2
  [ "$key" != warmup ] || label="$c (warm-up)"
  run_index=$((run_index + 1))
  result[loyaltyd,$key]=$(run_wrk loyaltyd "$c" "http://127.0.0.1:$port" "$run_index" "$3")
  result[rss,$key]=$(peak_rss_mb)
  counts=$(inbox_counts)
  result[backlog,$key]=${counts%% *}
  ok=$(field ok "${result[loyaltyd,$key]}")
  [ "$ok" = "?" ] || ok_total=$((ok_total + ok))
  log "loyaltyd at $label: $(field rps "${result[loyaltyd,$key]}") requests/s;" \
    "inbox pending/processed/failed/ignored: $counts"
  # Processing keeps up if the backlog drains. Wait for it (bounded) so that each level starts
  # with an empty backlog, and time it: backlog / drain time is the rate at which the processor
  # works through events once the requests stop.
  drain_start=$(date +%s.%N)
  while [ "${counts%% *}" != 0 ] && [ "${counts%% *}" != "?" ] &&
    awk -v s="$drain_start" -v now="$(date +%s.%N)" -v max="$drain_seconds" \
      'BEGIN { exit !(now - s < max) }'; do
    sleep 0.2
    counts=$(inbox_counts)
  done
  result[drain,$key]=$(awk -v s="$drain_start" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - s }')
  result[drain_rate,$key]=$(awk -v n="${result[backlog,$key]}" -v t="${result[drain,$key]}" \
    'BEGIN { if (n + 0 > 0 && t + 0 > 0) printf "%d", n / t; else print "-" }')
  log "backlog of ${result[backlog,$key]} drained to ${counts%% *} in ${result[drain,$key]} s"
}

bench_loyaltyd() {
  port=$(free_port)
  cat >"$work/config.json" <<JSON
{
  "server": {"listen": "127.0.0.1:$port", "threads": $server_threads, "max_body_bytes": 1048576},
  "storage": {"sqlite": {"path": "$work/loyaltyd.db"}},
  "logging": {"level": "warn", "format": "text"},
  "admin": {"token": "$token"},
  "shops": [{"id": "bench", "platform": "shopify", "domain": "$shop_domain",
             "webhook_secret": "$secret"}],
  "program": {"currency": "USD", "earn": [{"type": "spend", "points": 1, "per": "1.00"}]}
}
JSON
  if [ -n "$seed_db" ]; then
    log "copying the seeded database $seed_db ($(du -hL "$seed_db" | cut -f1))"
    cp "$seed_db" "$work/loyaltyd.db"
    # Write the copy out before measuring: otherwise the kernel flushes gigabytes of dirty pages
    # while the daemon fsyncs every inbox commit, and the run measures the flush.
    sync
  fi
  "$build_dir/loyaltyd" serve --config "$work/config.json" >"$work/loyaltyd.log" 2>&1 &
  server_pid=$!
  wait_ready "http://127.0.0.1:$port/healthz" ||
    die "loyaltyd is not answering on port $port:$(printf '\n'; tail -n 20 "$work/loyaltyd.log")"
  log "loyaltyd ready on 127.0.0.1:$port (pid $server_pid, database $work/loyaltyd.db)"

  local c
  if [ "$warmup" != 0 ]; then
    ingest_level warmup "$first_connections" "$warmup"
    in_flight_total=$((in_flight_total + first_connections))
  fi
  for c in $connections; do
    ingest_level "$c" "$c" "$duration"
    in_flight_total=$((in_flight_total + c))
  done
  drain_note="${counts%% *} pending after the last drain"
  read -r pending processed failed ignored <<<"$counts"
  local mode out pace paces=0
  [ "$read_pace_ms" = 0 ] || paces="0 $read_pace_ms"
  for mode in $reads; do
    for pace in $paces; do
      out=$work/wrk-reads-$mode-$pace.txt
      log "reads: GET $mode, $read_connections connections for ${duration} s," \
        "$([ "$pace" = 0 ] && echo saturated || echo "$pace ms between requests")"
      timeout --foreground $((duration + 60)) wrk -t"$wrk_threads" -c"$read_connections" \
        -d"${duration}s" --timeout 2s -s bench/reads.lua "http://127.0.0.1:$port" -- \
        "$token" "$customers" "$mode" "$pace" >"$out" 2>&1 ||
        die "wrk reads failed:$(printf '\n'; cat "$out")"
      local key=reads,$mode
      [ "$pace" = 0 ] || key=reads_paced,$mode
      result[$key]=$(grep '^BENCH ' "$out" | sed 's/^BENCH //') || die "no BENCH line in $out"
    done
  done
  stop_server
}

bench_bare() {
  "$build_dir/bench/loyaltyd_bare_server" --port 0 --threads "$server_threads" \
    >"$work/bare.out" 2>&1 &
  server_pid=$!
  local bare_port="" c
  for _ in $(seq 1 100); do
    bare_port=$(head -n 1 "$work/bare.out" | grep -E '^[0-9]+$' || true)
    if [ -n "$bare_port" ] || ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  [ -n "$bare_port" ] || die "bare server did not start:$(printf '\n'; cat "$work/bare.out")"
  wait_ready "http://127.0.0.1:$bare_port/healthz" || die "bare server is not answering"
  log "bare server ready on 127.0.0.1:$bare_port (pid $server_pid)"
  for c in $connections; do
    run_index=$((run_index + 1))
    result[bare,$c]=$(run_wrk bare "$c" "http://127.0.0.1:$bare_port" "$run_index")
    result[bare_rss,$c]=$(peak_rss_mb)
  done
  stop_server
}

"$build_dir/bench/loyaltyd_make_payloads" --count "$bodies" --customers "$customers" \
  --secret "$secret" --shop-domain "$shop_domain" --out "$work/payloads.dat" >&2
for s in $servers; do
  case $s in
    loyaltyd) bench_loyaltyd ;;
    bare) bench_bare ;;
    *) die "BENCH_SERVERS: unknown server '$s' (loyaltyd, bare)" ;;
  esac
done

# --- Report ------------------------------------------------------------------------------------
errors_of() {  # non-2xx answers, socket errors and timeouts
  local sum=0 k v
  [ -n "$1" ] || { echo "?"; return 0; }
  for k in non2xx connect_errors read_errors write_errors timeouts; do
    v=$(field "$k" "$1")
    [ "$v" = "?" ] || sum=$((sum + v))
  done
  echo "$sum"
}

row='%-6s %12s %9s %6s %7s %7s %9s %8s %7s %8s %8s %10s %7s | %9s %8s %8s\n'
echo
echo "loyaltyd ingest benchmark: $duration s per level, wrk -t$wrk_threads, server.threads" \
  "$server_threads, $bodies signed orders/paid bodies, database on $fs_type, $(nproc) cores"
# shellcheck disable=SC2059
printf "$row" conns loyaltyd_rps bare_rps ratio p50_ms p99_ms p99.9_ms max_ms errors backlog \
  drain_s drain_ev/s rss_mb bare_p99 bare_err bare_rss
for c in $connections; do
  l=${result[loyaltyd,$c]:-}
  b=${result[bare,$c]:-}
  ratio=$(awk -v a="$(field rps "$l")" -v b="$(field rps "$b")" \
    'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "?" }')
  # shellcheck disable=SC2059
  printf "$row" "$c" "$(field rps "$l")" "$(field rps "$b")" "$ratio" "$(field p50_ms "$l")" \
    "$(field p99_ms "$l")" "$(field p999_ms "$l")" "$(field max_ms "$l")" "$(errors_of "$l")" \
    "${result[backlog,$c]:-?}" "${result[drain,$c]:-?}" "${result[drain_rate,$c]:-?}" \
    "${result[rss,$c]:-?}" "$(field p99_ms "$b")" "$(errors_of "$b")" "${result[bare_rss,$c]:-?}"
done
echo
echo "rss_mb / bare_rss: each server's peak resident memory (VmHWM) since it started, read" \
  "after the level."
[[ " $servers " == *" loyaltyd "* ]] || exit 0
[ -z "$seed_db" ] || echo "database: a copy of $seed_db"
if [ "$warmup" != 0 ]; then
  w=${result[loyaltyd,warmup]:-}
  echo "warm-up (cold start, not in the table): $warmup s at $first_connections connections right" \
    "after the start: $(field rps "$w") requests/s, p99_ms $(field p99_ms "$w"); backlog" \
    "${result[backlog,warmup]:-?} drained in ${result[drain,warmup]:-?} s"
fi
for mode in $reads; do
  r=${result[reads,$mode]:-}
  echo "reads $mode ($read_connections connections, saturated, customers 1..$customers):" \
    "rps $(field rps "$r") p50_ms $(field p50_ms "$r") p99_ms $(field p99_ms "$r")" \
    "p99.9_ms $(field p999_ms "$r") max_ms $(field max_ms "$r") errors $(errors_of "$r")"
  [ "$read_pace_ms" != 0 ] || continue
  r=${result[reads_paced,$mode]:-}
  echo "reads_paced $mode ($read_connections connections, $read_pace_ms ms between requests," \
    "customers 1..$customers): rps $(field rps "$r") p50_ms $(field p50_ms "$r")" \
    "p99_ms $(field p99_ms "$r") p99.9_ms $(field p999_ms "$r") max_ms $(field max_ms "$r")" \
    "errors $(errors_of "$r")"
done
echo "backlog: events pending right after each level; drain_s: time until none were pending" \
  "(each level starts with none); drain_ev/s: backlog / drain_s, events processed per second" \
  "with no requests coming in; at the end, $drain_note."
echo "inbox: $processed processed, $failed failed, $ignored ignored, $pending pending;" \
  "wrk read $ok_total 2xx answers from loyaltyd, each for a distinct event."
if [ "$pending" != "?" ] && [ "$processed" != "?" ]; then
  stored=$((pending + processed + failed + ignored))
  if [ "$stored" -lt "$ok_total" ] || [ "$stored" -gt $((ok_total + in_flight_total)) ]; then
    echo "warning: the inbox holds $stored events; expected $ok_total acknowledged plus at most" \
      "$in_flight_total in flight when wrk stopped (one per connection per level)"
  fi
fi
if [ "$failed" != "?" ] && [ "$failed" != 0 ]; then
  echo "warning: $failed benchmark events failed processing (GET /api/v1/events?status=failed)"
fi
