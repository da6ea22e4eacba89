#!/usr/bin/env bash
# plan / apply / import / state / destroy / rollback end to end, against moto with signature
# checking on, every outcome checked with the aws CLI. Uses CloudWatch log groups, the
# simplest type, so that this test is about the engine, not a driver.
. "$(dirname "$0")/lib.sh"

moto_start
# a user of another account, for the account check below: made before signature checking is on,
# since moto picks the account of an unsigned request by its x-moto-account-id header
other=$(python3 - <<'PY'
import boto3, json
iam = boto3.client("iam")
iam.meta.events.register("before-sign.iam.*", lambda request, **kw: request.headers.add_header("x-moto-account-id", "111122223333"))
iam.create_user(UserName="other")
iam.put_user_policy(UserName="other", PolicyName="all", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
k = iam.create_access_key(UserName="other")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
)
moto_enable_auth

proj="$E2E_TMP/proj"
mkdir -p "$proj"
export E2E_SECRET="s3cr3t-value-$$-do-not-leak"
write_config() { # $1: retention of app, $2: extra yaml appended, $3: extra resources
  cat >"$proj/plumb.yaml" <<YAML
project: e2e
region: us-east-1
vars: { days: $1 }
environments: { stage: {} }
resources:
  app:
    type: AWS::Logs::LogGroup
    properties:
      LogGroupName: /e2e/\${env}/app
      RetentionInDays: \${var.days}
      Tags: [{ Key: owner, Value: "\${secret.env.E2E_SECRET}" }]
  worker:
    type: AWS::Logs::LogGroup
    depends_on: [app]
    properties: { LogGroupName: "/e2e/\${env}/worker", RetentionInDays: 7 }
${3:-}
outputs:
  app_arn: \${app.Arn}
${2:-}
YAML
}
retention() { aws logs describe-log-groups --log-group-name-prefix "$1" --query "logGroups[?logGroupName=='$1'].retentionInDays" --output text; }
groups() { aws logs describe-log-groups --query 'logGroups[].logGroupName' --output text | tr '\t' '\n' | grep -c e2e; }

write_config 14
run_plumb -C "$proj" plan -e stage --detailed-exitcode
check "a first plan wants to create both" expect_rc 2
check "the plan summary is Terraform's" expect_out "Plan: 2 to add, 0 to change, 0 to destroy\."
check "the secret shows as (sensitive)" expect_out "Value = \(sensitive\)"

run_plumb -C "$proj" apply -e stage --auto-approve
check "apply succeeds" expect_rc 0
check "apply reports what it did" expect_out "Apply complete! Resources: 2 added, 0 changed, 0 destroyed\."
check "the aws CLI sees app with its retention" test "$(retention /e2e/stage/app)" = 14
check "the aws CLI sees worker" test "$(retention /e2e/stage/worker)" = 7
check "plumb tagged it" bash -c "aws logs list-tags-log-group --log-group-name /e2e/stage/app --output json | grep -q '\"plumb:address\": \"app\"'"
check "outputs are printed" expect_out "app_arn = \"arn:aws:logs:us-east-1:[0-9]+:log-group:/e2e/stage/app\""

run_plumb -C "$proj" plan -e stage --detailed-exitcode
check "right after apply the plan is empty" expect_rc 0
check "and says so" expect_out "No changes"

# --- an update in place, through a saved plan --------------------------------------------
write_config 30
run_plumb -C "$proj" plan -e stage --out "$E2E_TMP/plan.json" --detailed-exitcode
check "a changed property plans as an update" expect_out "~ RetentionInDays = 14 -> 30"
check "one to change" expect_out "Plan: 0 to add, 1 to change, 0 to destroy\."
check "the plan file is versioned JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format_version"]=="1" and d["summary"]=={"add":0,"change":1,"destroy":0}, d["summary"]' "$E2E_TMP/plan.json"
run_plumb -C "$proj" apply -e stage "$E2E_TMP/plan.json"
check "the saved plan applies" expect_rc 0
check "the aws CLI sees the new retention" test "$(retention /e2e/stage/app)" = 30
run_plumb -C "$proj" apply -e stage "$E2E_TMP/plan.json"
check "a saved plan is refused once state moved on" expect_rc 1
check "the refusal says it is stale" expect_err "stale"

# --- replace: a create-only property --------------------------------------------------------
sed -i 's|LogGroupName: "/e2e/${env}/worker"|LogGroupName: "/e2e/${env}/worker2"|' "$proj/plumb.yaml"
run_plumb -C "$proj" plan -e stage
check "a create-only change plans a replacement" expect_out "# worker must be replaced"
check "naming the property that forces it" expect_out "LogGroupName = \"/e2e/stage/worker\" -> \"/e2e/stage/worker2\" # forces replacement"
run_plumb -C "$proj" apply -e stage --auto-approve
check "the replacement applies" expect_rc 0
check "the old group is gone" test -z "$(retention /e2e/stage/worker)"
check "the new group exists" test "$(retention /e2e/stage/worker2)" = 7

# --- import a resource made by the aws CLI; remove from config = delete --------------------
aws logs create-log-group --log-group-name /e2e/stage/legacy
aws logs put-retention-policy --log-group-name /e2e/stage/legacy --retention-in-days 90
write_config 30 "" # worker back to its first name is irrelevant here: restore file
sed -i 's|/e2e/${env}/worker"|/e2e/${env}/worker2"|' "$proj/plumb.yaml"
cat >>"$proj/plumb.yaml" <<'YAML'
  legacy:
    type: AWS::Logs::LogGroup
    properties: { LogGroupName: "/e2e/${env}/legacy", RetentionInDays: 90 }
YAML
sed -i 's|^outputs:|outputs_unused:|; /^outputs_unused:/,$d' "$proj/plumb.yaml"
cat >>"$proj/plumb.yaml" <<'YAML'
  legacy:
    type: AWS::Logs::LogGroup
    properties: { LogGroupName: "/e2e/${env}/legacy", RetentionInDays: 90 }
YAML
run_plumb -C "$proj" import -e stage legacy /e2e/stage/legacy
check "import records an existing group" expect_rc 0
run_plumb -C "$proj" plan -e stage --detailed-exitcode
check "an imported resource that matches plans as no-op" expect_rc 0
run_plumb -C "$proj" state list -e stage
check "state list shows the imported resource" expect_out "^legacy +AWS::Logs::LogGroup"

sed -i '/^  legacy:/,$d' "$proj/plumb.yaml"
run_plumb -C "$proj" plan -e stage
check "a resource removed from the config plans as a delete" expect_out "# legacy will be destroyed"

# --- a failing check rolls back what the run created -----------------------------------------
run_plumb -C "$proj" destroy -e stage --auto-approve
check "destroy succeeds" expect_rc 0
check "nothing of the project is left" test "$(groups)" = 0
write_config 14 "checks:
  - { http: 'http://127.0.0.1:9/health', expect: 200, within: 2s }"
run_plumb -C "$proj" apply -e stage --auto-approve
check "a failing post-apply check fails the apply" expect_rc 1
check "the check is named" expect_err "check failed: GET http://127.0.0.1:9/health"
check "rollback destroyed what the run created" test "$(groups)" = 0
run_plumb -C "$proj" runs -e stage
check "runs shows the rolled-back apply" expect_out "apply +success|apply +rolled back"

# --- a run whose last action fails leaves nothing it created ---------------------------------
# the role comes last (after worker) and its policy attachment fails at AWS: the driver removes
# the half-made role, and rollback destroys the two groups this run made before it
write_config 14 "" "  last:
    type: AWS::IAM::Role
    depends_on: [worker]
    properties:
      RoleName: e2e-last
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{ Effect: Allow, Principal: { Service: ecs-tasks.amazonaws.com }, Action: 'sts:AssumeRole' }]
      ManagedPolicyArns: ['arn:aws:iam::aws:policy/PlumbE2eNoSuchPolicy']"
run_plumb -C "$proj" apply -e stage --auto-approve
check "an apply whose last action fails exits 1" expect_rc 1
check "the AWS error is named" expect_err "NoSuchEntity"
check "it rolled back" expect_err "rolled back 2 changes"
check "nothing it created is left" test "$(groups)" = 0
check "not even the half-made role" bash -c "! aws iam get-role --role-name e2e-last >/dev/null 2>&1"
run_plumb -C "$proj" state list -e stage
check "state is empty after the rollback" test -z "$OUT"

# --- a name taken outside plumb is refused, not taken over -----------------------------------
# in us-east-1 CreateBucket answers 200 for a bucket the account has already: only the lookup
# before creating tells plumb the name is someone else's
taken="e2e-taken-$$"
aws s3api create-bucket --bucket "$taken" >/dev/null
write_config 14 "" "  site:
    type: AWS::S3::Bucket
    properties:
      BucketName: $taken
      Tags: [{ Key: team, Value: web }]"
run_plumb -C "$proj" apply -e stage --auto-approve
check "an apply whose bucket name is taken exits 1" expect_rc 1
check "it says the bucket is not plumb's" expect_err "AWS::S3::Bucket .*$taken.* already exists and is not managed by plumb"
check "the bucket is still there" bash -c "aws s3api head-bucket --bucket '$taken' >/dev/null"
check "and was not tagged" bash -c "! aws s3api get-bucket-tagging --bucket '$taken' >/dev/null 2>&1"
check "nothing else of the run is left" test "$(groups)" = 0
aws s3api delete-bucket --bucket "$taken"

# --- one writer at a time ------------------------------------------------------------------
write_config 14
mkdir -p "$proj/state/stage"
python3 - "$proj/state/stage/writer.lock" <<'PY' &
import fcntl, json, os, sys, time
f = open(sys.argv[1], "a+")
fcntl.flock(f, fcntl.LOCK_EX)
f.seek(0); f.truncate(); f.write(json.dumps({"pid": os.getpid(), "host": "elsewhere", "operation": "apply", "since": "2026-01-01T00:00:00Z"})); f.flush()
time.sleep(30)
PY
holder=$!
sleep 1
run_plumb -C "$proj" apply -e stage --auto-approve
check "a second writer is refused" expect_rc 1
check "the holder is named" expect_err "locked by pid $holder on host elsewhere, running 'apply'"
kill $holder; wait $holder 2>/dev/null

# --- whose credentials: known keys skip STS; another account's are refused --------------------
run_plumb -C "$proj" apply -e stage --auto-approve
run_plumb -C "$proj" --stats plan -e stage
check "a known access key needs no GetCallerIdentity" bash -c "! printf '%s' \"\$0\" | grep -qE '^sts '" "$ERR"
check "and the plan still reads the account" expect_rc 0
(
  export AWS_ACCESS_KEY_ID=${other% *} AWS_SECRET_ACCESS_KEY=${other#* }
  check "the other key is for another account" test "$(aws sts get-caller-identity --query Account --output text)" = 111122223333
  run_plumb -C "$proj" apply -e stage --auto-approve
  check "credentials for another account are refused" expect_rc 1
  check "both accounts are named" expect_err "manages resources in AWS account [0-9]{12}, but the credentials in use \(profile 'default'\) are for account 111122223333"
  check "and nothing was made in the other account" test "$(aws logs describe-log-groups --query 'length(logGroups)' --output text)" = 0
)

# --- plumb rollback shows what it undoes, asks, then undoes the newest apply ------------------
write_config 30 "" "  extra:
    type: AWS::Logs::LogGroup
    properties: { LogGroupName: /e2e/stage/extra }"
run_plumb -C "$proj" apply -e stage --auto-approve
check "an apply updates one group and makes another" expect_rc 0
extra() { aws logs describe-log-groups --log-group-name-prefix /e2e/stage/extra --query 'length(logGroups)' --output text; }
run_plumb -C "$proj" rollback -e stage </dev/null
check "rollback without a terminal needs --auto-approve" expect_rc 1
check "and says so" expect_err "rollback needs --auto-approve when not run from a terminal"
check "it shows the group it would destroy" expect_out "- extra \(AWS::Logs::LogGroup .*/e2e/stage/extra.*\) will be destroyed: the run created it"
check "and the group it would restore" expect_out "~ app \(AWS::Logs::LogGroup\) will be restored to its settings before the run"
check "with the counts" expect_out "Rollback: 1 to destroy, 1 to restore\."
check "unapproved, it changes nothing" test "$(retention /e2e/stage/app) $(extra)" = "30 1"
run_plumb -C "$proj" rollback -e stage --auto-approve
check "approved, it rolls back" expect_rc 0
check "both changes" expect_out "Rolled back run .*: 2 changes undone\."
check "the made group is gone and the updated one restored" test "$(retention /e2e/stage/app) $(extra)" = "14 0"
write_config 14
run_plumb -C "$proj" plan -e stage --detailed-exitcode
check "after it the plan of the earlier configuration is empty" expect_rc 0

# --- no secret anywhere ------------------------------------------------------------------
run_plumb -C "$proj" apply -e stage --auto-approve
run_plumb -C "$proj" plan -e stage --json
check "the secret is in no file under the project" bash -c "! grep -rqF -- '$E2E_SECRET' '$proj'"
check "the secret is in no output" bash -c "! printf '%s' \"\$0\" | grep -qF -- '$E2E_SECRET'" "$OUT$ERR"

finish
