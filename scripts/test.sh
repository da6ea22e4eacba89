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

# Python tools (moto_server, the aws CLI, test helpers) from the interpreter's own directory:
# under pyenv every `python3` or `aws` otherwise goes through a bash shim that costs ~0.25 s,
# and the driver tests make thousands of such calls.
PATH="$(python3 -c 'import os, sys; print(os.path.dirname(os.path.realpath(sys.executable)))'):$PATH"
export PATH

# criterion judges a test by its assertions; a leak is reported by LeakSanitizer when the
# test's worker exits, after the verdict, so the log is checked for sanitizer reports too
# (tests/tools/sanitizer_verdict.py: any report but criterion's own runner leaks fails).
run_unit() {
  local log rc=0 verdict
  log=$(mktemp)
  "$1/tests/unit_tests" --jobs 2 ${TEST_FILTER:+--filter "$TEST_FILTER"} 2>&1 | tee "$log" || rc=$?
  verdict=0
  python3 tests/tools/sanitizer_verdict.py "$log" || verdict=$?
  if [ "$verdict" = 1 ]; then
    echo "== unit tests: a sanitizer reported an error (above)"
    rc=1
  elif [ "$verdict" = 3 ] && [ "$rc" != 0 ] &&
    grep -qE 'Synthesis: Tested: [1-9][0-9]* \| Passing: [0-9]+ \| Failing: 0 \| Crashing: 0' "$log"; then
    # criterion's runner leaked at exit, so LeakSanitizer made it exit non-zero; every test
    # passed and no report is ours
    echo "== unit tests: criterion's runner exited $rc for its own leak only; every test passed"
    rc=0
  fi
  rm -f "$log"
  return "$rc"
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
  # Leaks are bugs: no suppressions.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  run_suite build-asan "sanitizer build" -DPLUMB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
fi
echo "== all tests passed in $(($(date +%s) - start)) s"
