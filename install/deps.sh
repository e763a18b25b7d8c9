#!/usr/bin/env bash
# Installs what loyaltyd needs to build, test and benchmark, from Debian 12's own packages.
#
# Idempotent and quick to rerun: one dpkg-query finds what is missing, and apt-get runs only
# when something is. Runs apt-get directly as root, through sudo otherwise.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config  # toolchain
  libcpp-httplib-dev nlohmann-json3-dev         # HTTP server/client, JSON
  libssl-dev libsqlite3-dev libspdlog-dev       # HMAC, storage, logging
  libgtest-dev googletest                       # tests (GTestConfig.cmake, gtest_main)
  wrk clang-format                              # benchmark load driver, CI's format check
  clang libclang-rt-14-dev                      # fuzz targets: clang and libFuzzer (tests/fuzz)
  curl ca-certificates sqlite3                  # poking a running daemon and its database
)

installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null |
  awk '$2 == "installed" { print $1 }' || true)
missing=()
for p in "${packages[@]}"; do
  grep -qxF "$p" <<<"$installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages are installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "deps: missing ${missing[*]}; run this script as root (no sudo here)" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
