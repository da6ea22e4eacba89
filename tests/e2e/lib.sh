# Shared by the end-to-end tests: each test sources this, calls moto_start, and checks what
# plumb did with the aws CLI, an independent client (DESIGN.md §8).
#
#   moto_start, moto_enable_auth, moto_reset: see tests/tools/moto.sh
#   check NAME CMD...     run CMD, count a pass or a failure under NAME
#   finish                print the summary line and exit non-zero on any failure
set -u

: "${PLUMB:?PLUMB must name the plumb binary}"
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumb-e2e.XXXXXX")
# Results go to a file, so checks made in subshells (used to scope environment changes) count.
E2E_RESULTS="$E2E_TMP/results"
: >"$E2E_RESULTS"

e2e_cleanup() {
  moto_stop
  rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/../tools/moto.sh"

check() {
  local name=$1
  shift
  if "$@"; then
    echo pass >>"$E2E_RESULTS"
    echo "ok - $name"
  else
    echo fail >>"$E2E_RESULTS"
    echo "not ok - $name"
  fi
}

# Runs plumb, keeping stdout, stderr and the exit code in $OUT, $ERR, $RC.
run_plumb() {
  "$PLUMB" "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err"
  RC=$?
  OUT=$(cat "$E2E_TMP/out")
  ERR=$(cat "$E2E_TMP/err")
}

# Assertions that print what they saw when they fail.
expect_rc() {
  [ "$RC" = "$1" ] && return 0
  echo "  expected exit $1, got $RC; stdout: $OUT; stderr: $ERR" >&2
  return 1
}
expect_out() {
  printf '%s' "$OUT" | grep -qE -- "$1" && return 0
  echo "  stdout lacks /$1/: $OUT" >&2
  return 1
}
expect_err() {
  printf '%s' "$ERR" | grep -qE -- "$1" && return 0
  echo "  stderr lacks /$1/: $ERR" >&2
  return 1
}
expect_err_lines() {
  local n
  n=$(printf '%s\n' "$ERR" | grep -c .)
  [ "$n" = "$1" ] && return 0
  echo "  expected $1 line(s) on stderr, got $n: $ERR" >&2
  return 1
}

# chain_project DIR PROJECT N: a plumb.yaml of N log groups /PROJECT/<env>/gI, each depending on
# the one before (many action boundaries for kills and races); log_groups PROJECT counts them.
chain_project() {
  local i
  mkdir -p "$1"
  {
    printf 'project: %s\nregion: us-east-1\nenvironments: { stage: {} }\nresources:\n' "$2"
    for i in $(seq 1 "$3"); do
      echo "  g$i:"
      echo "    type: AWS::Logs::LogGroup"
      [ "$i" -gt 1 ] && echo "    depends_on: [g$((i - 1))]"
      echo "    properties: { LogGroupName: \"/$2/\${env}/g$i\", RetentionInDays: 7 }"
    done
  } >"$1/plumb.yaml"
}
log_groups() { aws logs describe-log-groups --log-group-name-prefix "/$1/" --query 'length(logGroups)' --output text; }

finish() {
  local passed failed
  passed=$(grep -c pass "$E2E_RESULTS")
  failed=$(grep -c fail "$E2E_RESULTS")
  echo "$(basename "$0" .sh): $passed passed, $failed failed"
  [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}
