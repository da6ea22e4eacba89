#!/usr/bin/env bash
# An apply killed with SIGKILL at several points, then run again, converges: every declared
# resource exists exactly once, nothing is orphaned, and the next plan is empty. Log groups
# with a chain of dependencies make many action boundaries to land on. Ctrl-C (SIGINT) stops
# an apply cleanly: no new action, what was made recorded, nothing rolled back.
. "$(dirname "$0")/lib.sh"

moto_start
moto_enable_auth

proj="$E2E_TMP/proj"
mkdir -p "$proj"
n=40
{
  echo "project: crash"
  echo "region: us-east-1"
  echo "environments: { stage: {} }"
  echo "resources:"
  for i in $(seq 1 $n); do
    echo "  g$i:"
    echo "    type: AWS::Logs::LogGroup"
    [ "$i" -gt 1 ] && echo "    depends_on: [g$((i - 1))]"
    echo "    properties: { LogGroupName: \"/crash/\${env}/g$i\", RetentionInDays: 7 }"
  done
} >"$proj/plumb.yaml"

count() { aws logs describe-log-groups --log-group-name-prefix /crash/ --query 'length(logGroups)' --output text; }

for delay in 0.25 0.2 0.2 0.2 0.2; do
  "$PLUMB" -C "$proj" -q apply -e stage --auto-approve --parallelism 4 >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  echo "killed after ${delay}s with $(count) groups made"
done

run_plumb -C "$proj" apply -e stage --auto-approve
check "apply after the kills succeeds" expect_rc 0
check "every group exists exactly once" test "$(count)" = "$n"
run_plumb -C "$proj" plan -e stage --detailed-exitcode
check "the next plan is empty" expect_rc 0
run_plumb -C "$proj" state list -e stage
check "state holds every group" test "$(printf '%s\n' "$OUT" | grep -c AWS::Logs::LogGroup)" = "$n"

# Ctrl-C: the run stops between actions, says so, exits 1, and state holds exactly what exists
"$PLUMB" -C "$proj" -q destroy -e stage --auto-approve >/dev/null 2>&1
"$PLUMB" -C "$proj" apply -e stage --auto-approve --parallelism 4 >"$E2E_TMP/out" 2>"$E2E_TMP/err" &
pid=$!
# once the first group is made (its progress line), so the stop lands midway however slow
# the build (sanitizers) or the machine
for _ in $(seq 1 200); do
  grep -q "creation complete" "$E2E_TMP/err" 2>/dev/null && break
  sleep 0.05
done
kill -INT "$pid"
wait "$pid"
RC=$?
ERR=$(cat "$E2E_TMP/err")
OUT=$(cat "$E2E_TMP/out")
check "an interrupted apply exits 1" expect_rc 1
check "it says it was interrupted" expect_err "interrupted: no new action started"
made=$(count)
echo "interrupted with $made groups made"
check "it stopped midway" test "$made" -gt 0 -a "$made" -lt "$n"
run_plumb -C "$proj" state list -e stage
check "state records exactly what was made" test "$(printf '%s\n' "$OUT" | grep -c AWS::Logs::LogGroup)" = "$made"
run_plumb -C "$proj" runs -e stage
check "runs lists it as interrupted" expect_out "apply +interrupted"
run_plumb -C "$proj" apply -e stage --auto-approve
check "the next apply finishes the rest" test "$RC" = 0 -a "$(count)" = "$n"

# destroy killed midway, then again: nothing left
"$PLUMB" -C "$proj" -q destroy -e stage --auto-approve >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
run_plumb -C "$proj" destroy -e stage --auto-approve
check "destroy after a kill succeeds" expect_rc 0
check "nothing is left" test "$(count)" = 0
run_plumb -C "$proj" state list -e stage
check "state is empty" test -z "$OUT"

# --- a lost state: the next apply adopts what exists instead of making it twice ----------------
# Creates look for an existing resource only when the tagging API shows one carrying their
# plumb:address: after the state is lost, they do, and a VPC (named by AWS, so a second create
# would make a second VPC) is adopted.
lost="$E2E_TMP/lost"
mkdir -p "$lost"
cat >"$lost/plumb.yaml" <<'YAML'
project: lost
region: us-east-1
environments: { stage: {} }
resources:
  vpc:
    type: AWS::EC2::VPC
    properties: { CidrBlock: 10.77.0.0/16 }
  logs:
    type: AWS::Logs::LogGroup
    properties: { LogGroupName: /lost/app, RetentionInDays: 7 }
YAML
vpcs() { aws ec2 describe-vpcs --filters Name=cidr,Values=10.77.0.0/16 --query 'length(Vpcs)' --output text; }
run_plumb -C "$lost" apply -e stage --auto-approve
check "lost state: the first apply makes both" test "$(vpcs)" = 1
rm -rf "$lost/state"
run_plumb -C "$lost" --stats apply -e stage --auto-approve
check "lost state: apply again succeeds" expect_rc 0
check "lost state: one tagging API query finds what exists" expect_err "GetResources +1 "
check "lost state: the VPC is adopted, not made twice" test "$(vpcs)" = 1
check "lost state: the log group too" test "$(aws logs describe-log-groups --log-group-name-prefix /lost/ --query 'length(logGroups)' --output text)" = 1
run_plumb -C "$lost" plan -e stage --detailed-exitcode
check "lost state: and the next plan is empty" expect_rc 0

finish
