#!/usr/bin/env bash
# Quick start, command 2: installs the dependencies, builds everything into build-test/ with
# AddressSanitizer and UBSan, and runs every test suite (unit, property and integration) there.
# Exits non-zero when a test fails, a sanitizer reports, or no test ran.
#
# One build, sanitized: a memory error, a leak or undefined behaviour anywhere a test reaches
# (the integration tests drive the sanitized daemon binary, where the threads are) makes its
# test fail. CI runs this and nothing else of the kind: it used to build twice, an -O2 build for
# the tests and a sanitized one to run them again, and the two compiles were most of its
# 20-odd minutes on 2 cores; the second build caught everything the first could.
# -O1 -g1 for the code under test: what the sanitizer docs recommend (fast enough, line numbers
# in reports) and quicker to compile than -O2 -g on our template-heavy headers; the test
# programs themselves compile at -O0 (tests/CMakeLists.txt says why). The daemon that
# install/run.sh and install/install-system.sh build is not sanitized (build/, build-release/).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash install/deps.sh
bash install/build.sh build-test -DLOYALTYD_SANITIZE=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
# halt_on_error: the first report ends the process (and fails its test); detect_leaks: a leak
# at exit is a report too.
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:print_stacktrace=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-test --output-on-failure -j2 --timeout 300 --no-tests=error
