#!/usr/bin/env bash
# plumb bootstrap end to end, against moto with signature checking on: from a project applied
# with local state, bootstrap makes the state bucket and lock table, moves the state into
# them, makes the GitHub OIDC provider and deploy role, and applies; a second copy of the
# project (another machine) then plans nothing; running bootstrap again changes nothing;
# --from starts a new environment from another's variables, only when the user agrees.
. "$(dirname "$0")/lib.sh"

moto_start
moto_enable_auth
account=$(aws sts get-caller-identity --query Account --output text)
bucket="boot-state-$account"

write_project() { # DIR WITH_STATE
  mkdir -p "$1"
  {
    cat <<'YAML'
project: boot
region: us-east-1
vars: { days: 14 }
environments:
  # one per line: bootstrap --from adds new ones here
  stage:
    vars: { days: 7 }
YAML
    [ "$2" = 1 ] && cat <<'YAML'
state:
  backend: s3
  bucket: boot-state-${aws.account_id}
  lock_table: boot-locks
bootstrap:
  github: { repository: acme/boot }
YAML
    cat <<'YAML'
resources:
  app:
    type: AWS::Logs::LogGroup
    properties: { LogGroupName: "/boot/${env}/app", RetentionInDays: "${var.days}" }
YAML
  } >"$1/plumb.yaml"
}
a="$E2E_TMP/a" b="$E2E_TMP/b"

# --- a project applied with local state ---------------------------------------------------------
write_project "$a" 0
run_plumb -C "$a" apply -e stage --auto-approve
check "the project starts with local state" expect_rc 0

# --- bootstrap: backend, state moved into it, CI identity, apply ---------------------------------
write_project "$a" 1
run_plumb -C "$a" bootstrap -e stage --auto-approve
check "bootstrap succeeds" expect_rc 0
check "it made the bucket" expect_out "\+ s3://$bucket \(versioned, encrypted, public access blocked\)"
check "it made the lock table" expect_out "\+ dynamodb table boot-locks"
check "the aws CLI sees versioning on" test "$(aws s3api get-bucket-versioning --bucket "$bucket" --query Status --output text)" = Enabled
check "and public access blocked" test "$(aws s3api get-public-access-block --bucket "$bucket" --query 'PublicAccessBlockConfiguration.BlockPublicPolicy' --output text)" = True
check "and default encryption" test "$(aws s3api get-bucket-encryption --bucket "$bucket" --query 'ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm' --output text)" = AES256
check "the lock table is keyed by LockID" test "$(aws dynamodb describe-table --table-name boot-locks --query 'Table.KeySchema[0].AttributeName' --output text)" = LockID
check "the local state was moved into the bucket" bash -c "aws s3 cp 's3://$bucket/boot/stage/state.json' - | grep -q '/boot/stage/app'"
check "it made GitHub's OIDC provider" bash -c "aws iam list-open-id-connect-providers --output text | grep -q token.actions.githubusercontent.com"
check "and a deploy role trusting the repository" bash -c "aws iam get-role --role-name boot-stage-github-deploy --output json | grep -q 'repo:acme/boot:\*'"
check "it applied the environment (nothing to change)" expect_out "No changes"

# --- another machine sees it ----------------------------------------------------------------------
write_project "$b" 1
run_plumb -C "$b" plan -e stage --detailed-exitcode
check "a second copy of the project plans nothing" expect_rc 0

# --- again: nothing changes ---------------------------------------------------------------------------
roles=$(aws iam list-roles --query 'length(Roles)' --output text)
run_plumb -C "$b" bootstrap -e stage --auto-approve
check "bootstrap again succeeds" expect_rc 0
check "finding the bucket there" expect_out "= s3://$bucket \(there already\)"
check "and the table" expect_out "= dynamodb table boot-locks \(there already\)"
check "and the provider" expect_out "= IAM OIDC provider .*token.actions.githubusercontent.com \(there already\)"
check "and the role" expect_out "= IAM role .*boot-stage-github-deploy \(there already\)"
check "with nothing to apply" expect_out "No changes"
check "no role was added" test "$(aws iam list-roles --query 'length(Roles)' --output text)" = "$roles"

# --- a new environment from another's variables -------------------------------------------------------
cp "$b/plumb.yaml" "$E2E_TMP/before.yaml"
run_plumb -C "$b" bootstrap -e prod --from stage </dev/null
check "adding an environment needs a yes" expect_rc 1
check "plumb.yaml is untouched without it" cmp -s "$b/plumb.yaml" "$E2E_TMP/before.yaml"
run_plumb -C "$b" bootstrap -e prod --from stage --auto-approve
check "bootstrap --from succeeds" expect_rc 0
check "prod is in plumb.yaml with stage's variables" grep -qE '^  prod: \{ vars: \{ days: 7 \} \}$' "$b/plumb.yaml"
check "plumb.yaml is still valid" bash -c "'$PLUMB' -C '$b' validate >/dev/null"
check "prod is applied with them" test "$(aws logs describe-log-groups --log-group-name-prefix /boot/prod/app --query 'logGroups[0].retentionInDays' --output text)" = 7
check "prod has its own deploy role" bash -c "aws iam get-role --role-name boot-prod-github-deploy >/dev/null"

finish
