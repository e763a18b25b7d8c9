#!/usr/bin/env bash
# Usage: install/build.sh [BUILD_DIR] [EXTRA CMAKE ARGS...]
#
# Configures (RelWithDebInfo unless the extra args set CMAKE_BUILD_TYPE) and builds with one job
# per core. BUILD_DIR defaults to build/; a relative one is taken from the repository root.
# LOYALTYD_TARGETS="a b" builds only those targets instead of everything.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=build
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  build_dir=$1
  shift
fi
case $build_dir in
  /*) ;;
  *) build_dir=$root/$build_dir ;;
esac

# A new build directory uses Ninja (install/deps.sh installs it): it starts a target's objects
# without waiting for the libraries it links, so both cores stay busy to the end. A directory
# already configured keeps its generator (CMake refuses to switch).
generator=()
if [ ! -f "$build_dir/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi

# A later -D wins, so extra args can override the build type.
cmake -S "$root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"

targets=()
for t in ${LOYALTYD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
