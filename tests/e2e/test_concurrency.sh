#!/usr/bin/env bash
# Two writers on one environment at once: one runs, the other is refused at once with the
# holder named (pid, host, command), and makes no AWS change. Readers (state list, an offline
# plan, output) never wait for the writer. Afterwards LMDB is whole: mdb_stat reads every
# database, and state holds exactly what AWS has. Several rounds of racing applies and
# destroys, so the race is not won the same way every time.
. "$(dirname "$0")/lib.sh"

moto_start
moto_enable_auth

proj="$E2E_TMP/proj"
mkdir -p "$proj"
n=30
chain_project "$proj" race "$n"
count() { log_groups race; }

# race CMD: starts two plumb CMD at once; sets WIN/LOSE to the outputs' files, RC1/RC2, PID1/PID2
race() {
  "$PLUMB" -C "$proj" "$@" -e stage --auto-approve --parallelism 2 >"$E2E_TMP/o1" 2>"$E2E_TMP/e1" &
  PID1=$!
  "$PLUMB" -C "$proj" "$@" -e stage --auto-approve --parallelism 2 >"$E2E_TMP/o2" 2>"$E2E_TMP/e2" &
  PID2=$!
  wait "$PID1"
  RC1=$?
  wait "$PID2"
  RC2=$?
}

# one_won ROUND: exactly one succeeded, the other was refused naming the winner's pid
one_won() {
  local winner loser_err
  if [ "$RC1" = 0 ] && [ "$RC2" = 1 ]; then
    winner=$PID1 loser_err=$E2E_TMP/e2
  elif [ "$RC2" = 0 ] && [ "$RC1" = 1 ]; then
    winner=$PID2 loser_err=$E2E_TMP/e1
  else
    echo "  exits $RC1 and $RC2; stderr 1: $(cat "$E2E_TMP/e1"); stderr 2: $(cat "$E2E_TMP/e2")" >&2
    return 1
  fi
  grep -qE "locked by pid $winner on host $(hostname), running '(apply|destroy)' since" "$loser_err" && return 0
  echo "  the refused one does not name pid $winner: $(cat "$loser_err")" >&2
  return 1
}

lmdb_whole() { # mdb_stat reads the environment and every named database
  local out
  out=$(mdb_stat -a "$proj/state/stage" 2>&1) || {
    echo "  mdb_stat: $out" >&2
    return 1
  }
  for db in meta resources runs journal; do
    printf '%s\n' "$out" | grep -q "Status of $db" || {
      echo "  mdb_stat lists no database $db: $out" >&2
      return 1
    }
  done
}
in_state() { "$PLUMB" -C "$proj" state list -e stage | grep -c 'AWS::Logs::LogGroup'; }

for round in 1 2 3; do
  race apply
  check "round $round: of two applies at once, one runs and the other is refused naming it" one_won
  check "round $round: every group exists exactly once" test "$(count)" = "$n"
  check "round $round: LMDB is whole" lmdb_whole
  check "round $round: state holds every group" test "$(in_state)" = "$n"
  race destroy
  check "round $round: of two destroys at once, one runs" one_won
  check "round $round: nothing is left" test "$(count)" = 0
  check "round $round: state is empty" test "$(in_state)" = 0
done

# readers during a write: they answer while the apply still holds the lock
"$PLUMB" -C "$proj" apply -e stage --auto-approve --parallelism 1 >"$E2E_TMP/o1" 2>"$E2E_TMP/e1" &
PID1=$!
for _ in $(seq 1 200); do
  grep -q "creation complete" "$E2E_TMP/e1" 2>/dev/null && break
  sleep 0.05
done
readers_ok=1
# E2E_READER_TIMEOUT: how long a reader may take (tests/memcheck.sh allows valgrind more)
for c in "state list" "plan --refresh=false" "output" "runs"; do
  # shellcheck disable=SC2086 # the command and its options are words
  timeout "${E2E_READER_TIMEOUT:-10}" "$PLUMB" -C "$proj" $c -e stage >/dev/null 2>"$E2E_TMP/re" || {
    echo "  '$c' during an apply failed: $(cat "$E2E_TMP/re")" >&2
    readers_ok=0
  }
done
still=$(kill -0 "$PID1" 2>/dev/null && echo running || echo done)
check "readers answer during an apply" test "$readers_ok" = 1
check "the apply was still running while they read" test "$still" = running
wait "$PID1"
check "the apply finishes" test $? = 0
check "every group exists" test "$(count)" = "$n"
check "LMDB is whole after readers and a writer" lmdb_whole
run_plumb -C "$proj" plan -e stage --detailed-exitcode
check "the next plan is empty" expect_rc 0

finish
