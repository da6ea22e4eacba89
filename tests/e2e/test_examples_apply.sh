#!/usr/bin/env bash
# Every shipped example, applied for real: against moto with signature checking on (and the
# App Runner emulator for the App Runner examples), each example's stage environment must
#   1. apply from nothing;
#   2. plan nothing right after (a non-empty second plan is a driver that reads back what it
#      wrote differently);
#   3. take a change to a variable as an update in place (`~`, not a replacement), which the
#      aws CLI (boto3 for App Runner) then sees;
#   4. destroy to nothing: the aws CLI finds none of its key resources afterwards.
# Each example runs on a copy in E2E_TMP, so no state is left in the repository. At the end the
# account must hold nothing at all: what one example leaves behind shows there too.
. "$(dirname "$0")/lib.sh"

# Bare module names resolve to this source tree's modules, whatever the binary was built with.
export PLUMB_MODULES_DIR="$PLUMB_SOURCE_DIR/modules"

# --- the App Runner emulator (moto has no App Runner) -----------------------------------------
APPRUNNER_PID=""
apprunner_start() {
  # --settle-calls 1: every operation is seen in progress once, so plumb's waits are exercised,
  # at the cost of one poll (10 s) per operation.
  python3 "$PLUMB_SOURCE_DIR/tests/emulators/apprunner_server.py" --port 0 --settle-calls 1 \
    >"$E2E_TMP/apprunner.port" 2>"$E2E_TMP/apprunner.log" &
  APPRUNNER_PID=$!
  await_server "$APPRUNNER_PID" "$E2E_TMP/apprunner.log" "the App Runner emulator" \
    grep -qE '^[0-9]+$' "$E2E_TMP/apprunner.port"
  # The SDKs' per-service endpoint: App Runner goes to the emulator, the rest to moto.
  AWS_ENDPOINT_URL_APPRUNNER="http://127.0.0.1:$(head -n1 "$E2E_TMP/apprunner.port")"
  export AWS_ENDPOINT_URL_APPRUNNER
}
apprunner_stop() {
  if [ -n "$APPRUNNER_PID" ]; then
    kill "$APPRUNNER_PID" 2>/dev/null
    wait "$APPRUNNER_PID" 2>/dev/null
    APPRUNNER_PID=""
  fi
}
trap 'apprunner_stop; e2e_cleanup' EXIT

moto_start
moto_enable_auth
apprunner_start
account=$(aws sts get-caller-identity --query Account --output text)

# --- probes: 0 the resource exists, 1 it does not, 2 the aws call failed ------------------------
# A "gone" check wants exactly 1, so an aws call that fails for another reason cannot pass it;
# each probe is first seen to answer 0 after apply.
listed() { # NAME CMD...: NAME is one of the values CMD prints
  local name=$1 out
  shift
  out=$("$@" --output text 2>"$E2E_TMP/aws.err") || {
    echo "  aws failed: $(cat "$E2E_TMP/aws.err")" >&2
    return 2
  }
  printf '%s\n' "$out" | tr '\t' '\n' | grep -qxF -- "$name"
}
repo() { listed "$1" aws ecr describe-repositories --query 'repositories[].repositoryName'; }
log_group() { listed "$1" aws logs describe-log-groups --query 'logGroups[].logGroupName'; }
role() { listed "$1" aws iam list-roles --query 'Roles[].RoleName'; }
bucket() { listed "$1" aws s3api list-buckets --query 'Buckets[].Name'; }
secret() { listed "$1" aws secretsmanager list-secrets --query 'SecretList[].Name'; }
vpc() { listed "$1" aws ec2 describe-vpcs --query 'Vpcs[].CidrBlock'; }
sg() { listed "$1" aws ec2 describe-security-groups --query 'SecurityGroups[].GroupName'; }
lb() { listed "$1" aws elbv2 describe-load-balancers --query 'LoadBalancers[].LoadBalancerName'; }
tg() { listed "$1" aws elbv2 describe-target-groups --query 'TargetGroups[].TargetGroupName'; }
cluster() { listed "$1" aws ecs describe-clusters --clusters "$1" --query "clusters[?status=='ACTIVE'].clusterName"; }
# By its ACTIVE revisions: moto 5.2.1's ListTaskDefinitionFamilies ignores --status and lists
# a family whose every revision is deregistered.
task_def() {
  local out
  out=$(aws ecs list-task-definitions --family-prefix "$1" --status ACTIVE \
    --query 'taskDefinitionArns[]' --output text 2>"$E2E_TMP/aws.err") || {
    echo "  aws failed: $(cat "$E2E_TMP/aws.err")" >&2
    return 2
  }
  [ -n "$out" ] && [ "$out" != None ]
}
# aws CLI v1 ignores AWS_ENDPOINT_URL for rds: name it.
db() { listed "$1" aws rds describe-db-instances --endpoint-url "$AWS_ENDPOINT_URL" --query 'DBInstances[].DBInstanceIdentifier'; }
db_subnets() { listed "$1" aws rds describe-db-subnet-groups --endpoint-url "$AWS_ENDPOINT_URL" --query 'DBSubnetGroups[].DBSubnetGroupName'; }
# App Runner through boto3, pointed at the emulator.
apprunner() { # KIND NAME: KIND service or scaling (an ACTIVE auto scaling configuration)
  python3 - "$1" "$2" <<'PY'
import os, sys, boto3
c = boto3.client("apprunner", endpoint_url=os.environ["AWS_ENDPOINT_URL_APPRUNNER"])
try:
    if sys.argv[1] == "service":
        names = [s["ServiceName"] for s in c.list_services()["ServiceSummaryList"]]
    else:
        names = [a["AutoScalingConfigurationName"] for a in
                 c.list_auto_scaling_configurations()["AutoScalingConfigurationSummaryList"]]
except Exception as e:
    print("  boto3 failed: %s" % e, file=sys.stderr)
    sys.exit(2)
sys.exit(0 if sys.argv[2] in names else 1)
PY
}
absent() {
  "$@"
  local rc=$?
  [ "$rc" = 1 ] && return 0
  [ "$rc" = 0 ] && echo "  still there: $*" >&2
  return 1
}

# A service's environment variable as App Runner reports it.
apprunner_env() { # SERVICE NAME
  python3 - "$1" "$2" <<'PY'
import os, sys, boto3
c = boto3.client("apprunner", endpoint_url=os.environ["AWS_ENDPOINT_URL_APPRUNNER"])
arn = next(s["ServiceArn"] for s in c.list_services()["ServiceSummaryList"] if s["ServiceName"] == sys.argv[1])
svc = c.describe_service(ServiceArn=arn)["Service"]
env = svc["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]["RuntimeEnvironmentVariables"]
print(env.get(sys.argv[2], ""))
PY
}
apprunner_image() { # SERVICE
  python3 - "$1" <<'PY'
import os, sys, boto3
c = boto3.client("apprunner", endpoint_url=os.environ["AWS_ENDPOINT_URL_APPRUNNER"])
arn = next(s["ServiceArn"] for s in c.list_services()["ServiceSummaryList"] if s["ServiceName"] == sys.argv[1])
print(c.describe_service(ServiceArn=arn)["Service"]["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"])
PY
}
expect_eq() { # GOT WANT
  [ "$1" = "$2" ] && return 0
  echo "  got '$1', expected '$2'" >&2
  return 1
}
expect_no_replace() {
  printf '%s' "$OUT" | grep -qE -- 'must be replaced|-/\+' || return 0
  echo "  the plan replaces something: $OUT" >&2
  return 1
}
retention() { aws logs describe-log-groups --log-group-name-prefix "$1" --query "logGroups[?logGroupName=='$1'].retentionInDays" --output text; }
desired() { aws ecs describe-services --cluster "$1" --services "$2" --query 'services[0].desiredCount' --output text; }
backup_days() { aws rds describe-db-instances --endpoint-url "$AWS_ENDPOINT_URL" --db-instance-identifier "$1" --query 'DBInstances[0].BackupRetentionPeriod' --output text; }

# --- the four steps, on a copy of one example -------------------------------------------------
# A copy of the example in E2E_TMP; its post-apply `checks:` block, if any, is dropped: it probes
# a real HTTP URL (the load balancer's or App Runner's DNS name) that an emulator cannot serve,
# and a failing check would roll the whole apply back (as scripts/demo.sh does).
copy_example() { # EXAMPLE
  echo "# $1 (at ${SECONDS}s)"
  proj="$E2E_TMP/$1"
  cp -r "$PLUMB_SOURCE_DIR/examples/$1" "$proj"
  rm -rf "$proj/state"
  python3 "$PLUMB_SOURCE_DIR/tests/tools/strip_checks.py" "$proj/plumb.yaml"
}

# Steps 1 and 2, then the probes all answer "there".
apply_and_replan() { # EXAMPLE PROBE...
  local ex=$1 p
  shift
  run_plumb -C "$proj" apply -e stage --auto-approve
  check "$ex: apply succeeds" expect_rc 0
  check "$ex: apply says it is complete" expect_out "Apply complete! Resources: [0-9]+ added, 0 changed, 0 destroyed\."
  run_plumb -C "$proj" plan -e stage --detailed-exitcode
  check "$ex: a second plan has nothing to do" expect_rc 0
  check "$ex: and says so" expect_out "No changes"
  for p in "$@"; do
    # shellcheck disable=SC2086 # a probe is a function and its argument
    check "$ex: the aws CLI sees $p" $p
  done
}

# Step 3's plan: an update in place of N resources, no replacement. VARS... are --var options.
plan_update() { # EXAMPLE N WANT_LINE VARS...
  local ex=$1 n=$2 want=$3
  shift 3
  run_plumb -C "$proj" plan -e stage --detailed-exitcode "$@"
  check "$ex: the change plans as changes" expect_rc 2
  check "$ex: $n to change in place, nothing added or destroyed" \
    expect_out "Plan: 0 to add, $n to change, 0 to destroy\."
  check "$ex: the plan shows the update ($want)" expect_out "$want"
  check "$ex: no resource must be replaced" expect_no_replace
  run_plumb -C "$proj" apply -e stage --auto-approve "$@"
  check "$ex: the change applies" expect_rc 0
  check "$ex: as $n changed" expect_out "Apply complete! Resources: 0 added, $n changed, 0 destroyed\."
  run_plumb -C "$proj" plan -e stage --detailed-exitcode "$@"
  check "$ex: with the change applied, the plan is empty" expect_rc 0
}

# Step 4: destroy, then every probe answers "gone" and state holds nothing.
destroy_all() { # EXAMPLE DESTROY_FLAGS PROBE...
  local ex=$1 flags=$2 p
  shift 2
  # shellcheck disable=SC2086 # no flag or --allow-destroy
  run_plumb -C "$proj" destroy -e stage --auto-approve $flags
  check "$ex: destroy succeeds" expect_rc 0
  check "$ex: destroy says it is complete" expect_out "Destroy complete! Resources: 0 added, 0 changed, [0-9]+ destroyed\."
  for p in "$@"; do
    # shellcheck disable=SC2086
    check "$ex: destroy left no $p" absent $p
  done
  run_plumb -C "$proj" state list -e stage
  check "$ex: state lists nothing after destroy" test -z "$OUT"
}

# A database with lifecycle.prevent_destroy stops a plain destroy, before anything is deleted.
destroy_refused() { # EXAMPLE ADDRESS DB
  local ex=$1
  run_plumb -C "$proj" destroy -e stage --auto-approve
  check "$ex: destroy without --allow-destroy is refused" expect_rc 1
  check "$ex: naming $2 and the flag" expect_err "$2 would be .*--allow-destroy"
  check "$ex: the refused destroy deleted nothing" db "$3"
}

# --- cloudshop: ECS Fargate behind an ALB, RDS PostgreSQL, an S3 website ----------------------
copy_example cloudshop
export CLOUDSHOP_DB_PASSWORD="e2e-cloudshop-$$-password"
probes=(
  "repo stage-cloudshop-backend" "log_group /ecs/stage/backend-blue"
  "bucket stage-cloudshop-frontend-$account" "db stage-cloudshop-db"
  "db_subnets stage-cloudshop-db" "role stage-cloudshop-task-execution"
  "cluster stage-cluster" "lb stage-alb" "tg stage-backend-blue" "sg stage-db"
  "task_def stage-backend-blue" "vpc 10.20.0.0/16"
)
apply_and_replan cloudshop "${probes[@]}"
# what each create cost, from the run's journal: a VPC is create, one DNS setting, its read (4)
# and the wait for "available", with no read after it (waits_only); a security group with no
# egress declared is create, the ingress rules and one read. Neither looks for an existing one
# first: the tagging API showed nothing carrying its plumb:address (apply.c, tagged_addresses).
journal_requests() { # ADDRESS
  "$PLUMB" -C "$proj" runs -e stage --run "$("$PLUMB" -C "$proj" runs -e stage --json |
    python3 -c 'import json,sys; print([r for r in json.load(sys.stdin)["runs"] if r.get("kind", "apply") == "apply"][0]["id"])')" |
    python3 -c 'import json,sys; print([e.get("requests") for e in json.load(sys.stdin)["journal"] if e.get("address") == sys.argv[1] and e.get("phase") == "done"][0])' "$1"
}
check "cloudshop: creating the vpc took 7 requests" expect_eq "$(journal_requests vpc)" 7
check "cloudshop: creating a security group took 3 requests" expect_eq "$(journal_requests alb_sg)" 3
# refresh leaves the default group unread (fixed for the VPC's life) and keeps what create read
run_plumb -C "$proj" state show vpc -e stage
check "cloudshop: after refresh, state still knows the VPC's default group" \
  expect_out "DefaultSecurityGroup.*$(aws ec2 describe-security-groups --filters Name=group-name,Values=default \
    Name=vpc-id,Values="$(aws ec2 describe-vpcs --filters Name=cidr,Values=10.20.0.0/16 --query 'Vpcs[0].VpcId' --output text)" \
    --query 'SecurityGroups[0].GroupId' --output text)"
plan_update cloudshop 1 "~ RetentionInDays = 14 -> 30" --var log_retention_days=30
check "cloudshop: the aws CLI sees the new retention" expect_eq "$(retention /ecs/stage/backend-blue)" 30
destroy_refused cloudshop db stage-cloudshop-db
destroy_all cloudshop --allow-destroy "${probes[@]}"

# --- django-blog: ECR and App Runner ----------------------------------------------------------
copy_example django-blog
export DJANGO_SECRET_KEY="e2e-django-$$-key" DATABASE_URL="postgres://u:e2e-$$@db.invalid/blog"
export SUPABASE_API_KEY="e2e-supabase-$$-key"
probes=(
  "repo stage-blog-api" "apprunner service stage-django-blog-api"
  "apprunner scaling stage-django-blog-api" "role stage-django-blog-api-ecr-access"
  "role stage-django-blog-api-instance"
)
apply_and_replan django-blog "${probes[@]}"
check "django-blog: App Runner runs DEBUG=False" expect_eq "$(apprunner_env stage-django-blog-api DEBUG)" False
# --var values are YAML scalars (docs/configuration.md): a bare True would be the boolean true.
plan_update django-blog 1 "# module.api.service will be updated in place" --var 'debug="True"'
check "django-blog: App Runner sees DEBUG=True" expect_eq "$(apprunner_env stage-django-blog-api DEBUG)" True
check "django-blog: the secret env vars survive the update" \
  expect_eq "$(apprunner_env stage-django-blog-api SECRET_KEY)" "$DJANGO_SECRET_KEY"
destroy_all django-blog "" "${probes[@]}"

# --- astro-ai: App Runner, Secrets Manager, RDS PostgreSQL in a VPC ---------------------------
copy_example astro-ai
export ASTRO_AI_SECRET='{"SECRET_KEY":"e2e-astro","OPENAI_API_KEY":"sk-e2e"}'
export ASTRO_AI_DB_PASSWORD="e2e-astro-$$-password"
probes=(
  "repo stage-astro-ai" "secret astro-ai/stage" "db stage-astro-ai-db"
  "db_subnets stage-astro-ai-db" "role stage-AppRunnerECRAccessRole"
  "role stage-AppRunnerInstanceRole" "apprunner service stage-astro-ai-service"
  "apprunner scaling stage-astro-ai-service" "sg stage-astro-ai-db" "vpc 10.40.0.0/16"
)
apply_and_replan astro-ai "${probes[@]}"
plan_update astro-ai 2 "~ BackupRetentionPeriod = 1 -> 3" \
  --var db_backup_retention_days=3 --var image_tag=v2
check "astro-ai: the aws CLI sees the new backup retention" expect_eq "$(backup_days stage-astro-ai-db)" 3
check "astro-ai: App Runner runs the new image tag" \
  expect_eq "$(apprunner_image stage-astro-ai-service)" "$account.dkr.ecr.us-east-1.amazonaws.com/stage-astro-ai:v2"
destroy_refused astro-ai module.db.db stage-astro-ai-db
destroy_all astro-ai --allow-destroy "${probes[@]}"

# --- containrlab: four ECR repositories, two ECS services behind one ALB ------------------------
copy_example containrlab
probes=(
  "repo stage-containrlab/api" "repo stage-containrlab/web" "repo stage-containrlab/runner"
  "repo stage-containrlab/runnerd" "log_group /ecs/stage-containrlab-api"
  "log_group /ecs/stage-containrlab-web" "role stage-containrlab-api-execution"
  "role stage-containrlab-api-task" "role stage-containrlab-web-execution"
  "role stage-containrlab-web-task" "cluster stage-containrlab" "lb stage-containrlab"
  "tg stage-containrlab-api" "tg stage-containrlab-web" "task_def stage-containrlab-api"
  "sg stage-containrlab-alb" "vpc 10.30.0.0/16"
)
apply_and_replan containrlab "${probes[@]}"
plan_update containrlab 4 "~ DesiredCount = 1 -> 2" --var desired_count=2 --var log_retention_days=30
check "containrlab: ECS wants 2 API tasks" expect_eq "$(desired stage-containrlab stage-containrlab-api)" 2
check "containrlab: ECS wants 2 web tasks" expect_eq "$(desired stage-containrlab stage-containrlab-web)" 2
check "containrlab: the aws CLI sees the new retentions" \
  expect_eq "$(retention /ecs/stage-containrlab-api) $(retention /ecs/stage-containrlab-web)" "30 30"
destroy_all containrlab "" "${probes[@]}"

# --- nothing of any example is left anywhere ----------------------------------------------------
leftovers() {
  python3 - <<'PY'
import os, boto3
left = []
def names(service, call, key, field, **kw):
    for item in getattr(boto3.client(service), call)(**kw)[key]:
        left.append("%s %s" % (service, item[field] if field else item))
names("ecr", "describe_repositories", "repositories", "repositoryName")
names("logs", "describe_log_groups", "logGroups", "logGroupName")
names("iam", "list_roles", "Roles", "RoleName")
names("s3", "list_buckets", "Buckets", "Name")
names("secretsmanager", "list_secrets", "SecretList", "Name")
names("rds", "describe_db_instances", "DBInstances", "DBInstanceIdentifier")
names("rds", "describe_db_subnet_groups", "DBSubnetGroups", "DBSubnetGroupName")
# moto 5.2.1 keeps a deleted cluster in ListClusters (INACTIVE) and ignores the status of
# ListTaskDefinitionFamilies: ask for what is ACTIVE.
ecs = boto3.client("ecs")
arns = ecs.list_clusters()["clusterArns"]
left += ["ecs " + c["clusterName"] for c in (ecs.describe_clusters(clusters=arns)["clusters"] if arns else [])
         if c["status"] == "ACTIVE"]
names("ecs", "list_task_definitions", "taskDefinitionArns", None, status="ACTIVE")
names("elbv2", "describe_load_balancers", "LoadBalancers", "LoadBalancerName")
names("elbv2", "describe_target_groups", "TargetGroups", "TargetGroupName")
names("ec2", "describe_vpcs", "Vpcs", "VpcId", Filters=[{"Name": "is-default", "Values": ["false"]}])
ar = boto3.client("apprunner", endpoint_url=os.environ["AWS_ENDPOINT_URL_APPRUNNER"])
left += ["apprunner " + s["ServiceName"] for s in ar.list_services()["ServiceSummaryList"]]
left += ["apprunner " + a["AutoScalingConfigurationName"] for a in
         ar.list_auto_scaling_configurations()["AutoScalingConfigurationSummaryList"]
         if a["AutoScalingConfigurationName"] != "DefaultConfiguration"]
print("\n".join(left))
PY
}
echo "# the whole account (at ${SECONDS}s)"
left=$(leftovers) || left="(the listing itself failed)"
check "nothing of any example is left in the account" test -z "$left"
[ -z "$left" ] || printf '%s\n' "$left" | sed 's/^/  left: /' >&2

finish
