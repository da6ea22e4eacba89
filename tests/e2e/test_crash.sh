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
chain_project "$proj" crash "$n"

count() { log_groups crash; }

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

# --- kills at action boundaries, with resources AWS names (a second create = a second VPC) -----
# A VPC, six subnets and a chain of log groups; each apply is killed right after its k-th
# action is reported complete (what is committed to state) and the next one carries on. Then
# every resource exists exactly once, and the tagging API shows nothing of the project that
# state does not manage.
net="$E2E_TMP/net"
mkdir -p "$net"
{
  echo "project: crashnet"
  echo "region: us-east-1"
  echo "environments: { stage: {} }"
  echo "resources:"
  echo "  vpc: { type: AWS::EC2::VPC, properties: { CidrBlock: 10.88.0.0/16 } }"
  for i in 1 2 3 4 5 6; do
    echo "  sub$i: { type: AWS::EC2::Subnet, properties: { VpcId: \"\${vpc.VpcId}\", CidrBlock: 10.88.$i.0/24 } }"
  done
  for i in $(seq 1 10); do
    dep=sub6
    [ "$i" -gt 1 ] && dep=l$((i - 1))
    echo "  l$i: { type: AWS::Logs::LogGroup, depends_on: [$dep], properties: { LogGroupName: /crashnet/l$i, RetentionInDays: 7 } }"
  done
} >"$net/plumb.yaml"
net_vpcs() { aws ec2 describe-vpcs --filters Name=cidr,Values=10.88.0.0/16 --query 'length(Vpcs)' --output text; }
net_subnets() { aws ec2 describe-subnets --filters Name=cidr-block,Values='10.88.*' --query 'length(Subnets)' --output text; }
net_groups() { aws logs describe-log-groups --log-group-name-prefix /crashnet/ --query 'length(logGroups)' --output text; }
net_tagged() { aws resourcegroupstaggingapi get-resources --tag-filters Key=plumb:project,Values=crashnet --query 'length(ResourceTagMappingList)' --output text; }
# apply_killed_after K [destroy]: runs apply (or destroy), SIGKILLs it right after its K-th
# completed action (tests/tools/kill_after.py reads its stderr as it comes)
apply_killed_after() {
  python3 "$PLUMB_SOURCE_DIR/tests/tools/kill_after.py" ' complete after ' "$1" -- \
    "$PLUMB" -C "$net" "${2:-apply}" -e stage --auto-approve --parallelism 3
}
points=0
for k in 1 2 4 7 9 12; do
  apply_killed_after "$k"
  points=$((points + 1))
done
# and at points in time, mid-action
for delay in 0.1 0.3; do
  "$PLUMB" -C "$net" -q apply -e stage --auto-approve >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  points=$((points + 1))
done
echo "apply killed at $points points"
run_plumb -C "$net" apply -e stage --auto-approve
check "boundaries: the apply after $points kills succeeds" expect_rc 0
check "boundaries: one VPC" test "$(net_vpcs)" = 1
check "boundaries: six subnets" test "$(net_subnets)" = 6
check "boundaries: ten log groups" test "$(net_groups)" = 10
check "boundaries: nothing tagged by the project is orphaned" test "$(net_tagged)" = 17
run_plumb -C "$net" plan -e stage --detailed-exitcode
check "boundaries: the next plan is empty" expect_rc 0

# destroy killed at action boundaries, then again: nothing left, nothing orphaned
for k in 1 3 6; do
  apply_killed_after "$k" destroy
done
run_plumb -C "$net" destroy -e stage --auto-approve
check "boundaries: destroy after three kills succeeds" expect_rc 0
check "boundaries: nothing is left" test "$(net_vpcs)$(net_subnets)$(net_groups)" = 000
check "boundaries: nothing tagged is left" test "$(net_tagged)" = 0

# --- a rollback killed midway: `plumb rollback` finishes it --------------------------------
# The apply succeeds, its check fails, and the rollback that follows is killed after its
# second deletion (the chain of groups is undone one by one). `plumb rollback` undoes the rest of the run from its journal.
cat >>"$net/plumb.yaml" <<'YAML'
checks:
  - { http: 'http://127.0.0.1:9/health', expect: 200, within: 1s }
YAML
python3 "$PLUMB_SOURCE_DIR/tests/tools/kill_after.py" --after 'rolling back' 'rollback: destroying' 3 -- \
  "$PLUMB" -C "$net" apply -e stage --auto-approve --parallelism 3
check "rollback: killed as it started its third deletion" test $? = 0
left=$(net_groups)
echo "rollback killed with $(net_vpcs) VPC, $(net_subnets) subnets, $left groups left"
check "rollback: it was killed midway" test "$left" -gt 0 -a "$left" -lt 10
run_plumb -C "$net" rollback -e stage --auto-approve
check "rollback: plumb rollback finishes the interrupted one" expect_rc 0
check "rollback: nothing of the run is left" test "$(net_vpcs)$(net_subnets)$(net_groups)" = 000
check "rollback: nothing tagged is left" test "$(net_tagged)" = 0
run_plumb -C "$net" state list -e stage
check "rollback: state is empty" test -z "$OUT"
sed -i '/^checks:/,$d' "$net/plumb.yaml"
run_plumb -C "$net" apply -e stage --auto-approve
check "rollback: then an apply makes everything once" test "$RC$(net_vpcs)$(net_subnets)$(net_groups)" = 01610

finish
