#!/usr/bin/env bash
# Configures and builds plumb into a build directory: scripts/build.sh [DIR] [CMAKE ARGS...]
# (default DIR: build). Used by test.sh and demo.sh; fine to run by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)" -- --no-print-directory | grep -vE '^\[ *[0-9]+%\]' || true
test -x "$dir/plumb"
