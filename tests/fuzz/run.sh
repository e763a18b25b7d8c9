#!/usr/bin/env bash
# Usage: tests/fuzz/run.sh [TARGET...]
#
# Builds the libFuzzer targets (tests/fuzz/*_fuzzer.cc) with clang in their own build directory
# and runs each for a bounded time on its seed corpus (tests/fuzz/corpus/<target>/). Fails when
# any target crashes, leaks, trips UBSan or breaks one of its invariants; the input that did
# is left in $FUZZ_BUILD_DIR/artifacts/<target>/ (reproduce: <build>/tests/fuzz/<target>_fuzzer
# <that file>). With no TARGET, runs all of them.
#
#   FUZZ_SECONDS    seconds per target (default 30)
#   FUZZ_JOBS       targets run at once (default: the number of cores); each is one process
#   FUZZ_BUILD_DIR  build directory (default build-fuzz/)
# New inputs a run finds go to $FUZZ_BUILD_DIR/corpus/<target>/, never into the repository.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-$(nproc)}
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
case $build in /*) ;; *) build=$root/$build ;; esac
fuzz_src=$root/tests/fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(money config shopify_verifier woocommerce_verifier shopify_normaliser
    woocommerce_normaliser)
fi

command -v clang++ >/dev/null || {
  echo "fuzz: clang++ not found; run install/deps.sh (clang, libclang-rt-14-dev)" >&2
  exit 1
}

# Only the fuzz targets and the libraries they link: no tests, no benchmarks, no daemon.
# -O1 -g1: libFuzzer's recommended optimisation for speed with usable stack traces.
generator=()
if [ ! -f "$build/CMakeCache.txt" ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
CC=clang CXX=clang++ cmake -S "$root" -B "$build" "${generator[@]}" -DLOYALTYD_FUZZ=ON \
  -DLOYALTYD_BUILD_TESTS=OFF -DLOYALTYD_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" >/dev/null
build_start=$SECONDS
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/%/_fuzzer}"
echo "fuzz: built ${#targets[@]} target(s) in $((SECONDS - build_start)) s"

# Leaks fail the run (libFuzzer's -detect_leaks is on); UBSan stops at the first report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

run_one() {
  local target=$1
  local work=$build/corpus/$target artifacts=$build/artifacts/$target/ log=$build/logs/$target.log
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  local dict=()
  case $target in
    config) dict=(-dict="$fuzz_src/config.dict") ;;
    shopify_*) dict=(-dict="$fuzz_src/shopify.dict") ;;
    woocommerce_*) dict=(-dict="$fuzz_src/woocommerce.dict") ;;
  esac
  # The writable corpus comes first: libFuzzer adds what it finds to the first directory.
  # -timeout: one input taking 10 s is a hang, reported like a crash. Inputs grow up to the
  # largest seed (libFuzzer's default -max_len): a real order body, 8 KB.
  if "$build/tests/fuzz/${target}_fuzzer" "$work" "$fuzz_src/corpus/$target" "${dict[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_funcs=0 \
    -artifact_prefix="$artifacts" -print_final_stats=1 >"$log" 2>&1; then
    local execs speed
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    echo "fuzz: $target passed: ${execs:-?} inputs in ${seconds} s (${speed:-?}/s)"
  else
    echo "fuzz: $target FAILED; input in $artifacts, log $log:" >&2
    tail -n 60 "$log" >&2
    return 1
  fi
}

# Run up to $jobs targets at once; every one runs to the end, then the run fails if any did.
# Each writes its verdict to a file (exit statuses of background jobs are easy to lose).
rm -rf "$build/verdicts"
mkdir -p "$build/verdicts"
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  (if run_one "$target"; then verdict=ok; else verdict=failed; fi
    echo "$verdict" >"$build/verdicts/$target") &
done
wait
failed=()
for target in "${targets[@]}"; do
  [ "$(cat "$build/verdicts/$target" 2>/dev/null)" = ok ] || failed+=("$target")
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} target(s) passed"
