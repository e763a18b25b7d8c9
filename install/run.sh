#!/usr/bin/env bash
# Quick start, command 1: installs the dependencies, builds loyaltyd and runs it in the
# foreground with config/example.json (or the config file given as $1). Ctrl-C stops it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
config=${1:-config/example.json}

bash install/deps.sh
LOYALTYD_TARGETS=loyaltyd bash install/build.sh build
mkdir -p var  # the example config keeps its database under var/
exec build/loyaltyd serve --config "$config"
