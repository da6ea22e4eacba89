#!/usr/bin/env bash
# plumb drift end to end, against moto with signature checking on: clean right after apply;
# after changes made with the aws CLI (a property, a deletion, an ECS desired count, a bucket's
# website deleted, a resource made outside plumb with the project's tags) each is reported with
# its status and exit 2;
# ignore_changes is honoured; config changes are pending, not drift; apply repairs and drift is
# clean again. The reports are checked as files (JSON, markdown) and no secret is in them.
. "$(dirname "$0")/lib.sh"

moto_start
moto_enable_auth

proj="$E2E_TMP/proj"
mkdir -p "$proj"
export DRIFT_SECRET="drift-secret-$$-never-shown"
write_config() { # $1: extra resources
  cat >"$proj/plumb.yaml" <<YAML
project: drifty
region: us-east-1
environments: { stage: {} }
resources:
  app:
    type: AWS::Logs::LogGroup
    properties:
      LogGroupName: /drift/\${env}/app
      RetentionInDays: 14
      Tags: [{ Key: owner, Value: "\${secret.env.DRIFT_SECRET}" }]
  gone:
    type: AWS::Logs::LogGroup
    properties: { LogGroupName: "/drift/\${env}/gone", RetentionInDays: 7 }
  cluster:
    type: AWS::ECS::Cluster
    properties: { ClusterName: "\${env}-drift" }
  task:
    type: AWS::ECS::TaskDefinition
    properties:
      Family: \${env}-drift
      ContainerDefinitions: [{ Name: web, Image: "nginx:1.27", Memory: 128 }]
  web:
    type: AWS::ECS::Service
    properties:
      ServiceName: web
      Cluster: \${cluster.Arn}
      TaskDefinition: \${task.TaskDefinitionArn}
      DesiredCount: 1
  worker:
    type: AWS::ECS::Service
    lifecycle: { ignore_changes: [DesiredCount] }
    properties:
      ServiceName: worker
      Cluster: \${cluster.Arn}
      TaskDefinition: \${task.TaskDefinitionArn}
      DesiredCount: 1
  site:
    type: AWS::S3::Bucket
    properties:
      BucketName: drift-site-\${env}
      WebsiteConfiguration: { IndexDocument: index.html }
${1:-}
YAML
}
jq_() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
status_of() { jq_ "$E2E_TMP/drift.json" "[r['status'] for r in d['resources'] if r['address']=='$1'][0]"; }

write_config
run_plumb -C "$proj" apply -e stage --auto-approve
check "apply succeeds" expect_rc 0
unset DRIFT_SECRET # a nightly job need not hold the secrets

run_plumb -C "$proj" drift -e stage --json "$E2E_TMP/drift.json" --markdown "$E2E_TMP/drift.md"
check "right after apply, drift exits 0" expect_rc 0
check "and says there is none" expect_out "No drift"
check "every resource is in sync" test "$(jq_ "$E2E_TMP/drift.json" "d['counts']['in_sync']")" = 7
check "the JSON report is versioned" test "$(jq_ "$E2E_TMP/drift.json" "d['format_version']")" = 1
check "the markdown says no drift" grep -q "no drift" "$E2E_TMP/drift.md"

# --- changes made outside plumb --------------------------------------------------------------
aws logs put-retention-policy --log-group-name /drift/stage/app --retention-in-days 30
aws logs delete-log-group --log-group-name /drift/stage/gone
aws ecs update-service --cluster stage-drift --service web --desired-count 3 >/dev/null
aws ecs update-service --cluster stage-drift --service worker --desired-count 2 >/dev/null
aws s3api delete-bucket-website --bucket drift-site-stage
aws logs create-log-group --log-group-name /drift/stage/stray \
  --tags plumb:project=drifty,plumb:env=stage,plumb:address=stray
# and a configuration change since the last apply: pending, not drift
write_config "  extra:
    type: AWS::Logs::LogGroup
    properties: { LogGroupName: \"/drift/\${env}/extra\" }"

run_plumb -C "$proj" --stats drift -e stage --json "$E2E_TMP/drift.json" --markdown "$E2E_TMP/drift.md"
check "drift found exits 2" expect_rc 2
check "the changed property is drift" test "$(status_of app)" = drifted
check "with what was applied and what AWS has" test "$(jq_ "$E2E_TMP/drift.json" "[(x['path'], x['applied'], x['actual']) for r in d['resources'] if r['address']=='app' for x in r['differences']]")" = "[('RetentionInDays', 14, 30)]"
check "the deleted group is reported deleted" test "$(status_of gone)" = deleted
check "the desired count changed by hand is drift" test "$(jq_ "$E2E_TMP/drift.json" "[(x['path'], x['applied'], x['actual']) for r in d['resources'] if r['address']=='web' for x in r['differences']]")" = "[('DesiredCount', 1, 3)]"
check "ignore_changes is honoured" test "$(status_of worker)" = in_sync
check "the website deleted by hand is drift" test "$(jq_ "$E2E_TMP/drift.json" "[(x['path'], x['actual']) for r in d['resources'] if r['address']=='site' for x in r['differences']]")" = "[('WebsiteConfiguration', None)]"
check "the tagged group made outside plumb is unmanaged" test "$(jq_ "$E2E_TMP/drift.json" "[u['address'] for u in d['unmanaged'] if u['arn'].endswith('/drift/stage/stray') or ':log-group:/drift/stage/stray' in u['arn']]")" = "['stray']"
check "the config change is pending, kept apart" test "$(jq_ "$E2E_TMP/drift.json" "[(p['address'], p['action']) for p in d['pending']]")" = "[('extra', 'create')]"
check "the counts add up" test "$(jq_ "$E2E_TMP/drift.json" "(d['counts']['in_sync'], d['counts']['drifted'], d['counts']['deleted'], d['counts']['unmanaged'], d['counts']['pending'])")" = "(3, 3, 1, 1, 1)"
check "the table names the drift" expect_out "RetentionInDays: applied 14, AWS has 30"
check "the table names the deletion" expect_out "gone \(AWS::Logs::LogGroup\) was deleted outside plumb"
check "the markdown has a row per finding" test "$(grep -c '^| `' "$E2E_TMP/drift.md")" = 5
check "one tagging API call finds the unmanaged" expect_err "GetResources +1 "
run_plumb -C "$proj" runs -e stage
check "plumb runs lists the drift checks" expect_out "drift +drift +3 drifted, 1 deleted, 1 unmanaged, 3 in sync"

# --- the check itself failing is exit 1, not 2 ---------------------------------------------------
(
  export AWS_SECRET_ACCESS_KEY=wrong-secret
  run_plumb -C "$proj" drift -e stage
  check "a check that cannot read AWS exits 1" expect_rc 1
  check "and names the AWS error" expect_err "SignatureDoesNotMatch|InvalidClientTokenId"
)

# --- apply repairs; the stray is deleted by its owner; drift is clean again ---------------------
export DRIFT_SECRET="drift-secret-$$-never-shown"
run_plumb -C "$proj" apply -e stage --auto-approve
check "apply repairs the drift" expect_rc 0
check "by making the deleted group again" expect_out "gone will be created \(it was deleted outside plumb\)"
check "the aws CLI sees it again" test "$(aws logs describe-log-groups --log-group-name-prefix /drift/stage/gone --query 'length(logGroups)' --output text)" = 1
aws logs delete-log-group --log-group-name /drift/stage/stray
unset DRIFT_SECRET
run_plumb -C "$proj" drift -e stage --json "$E2E_TMP/drift.json"
check "after the repair drift exits 0" expect_rc 0
check "AWS has the applied retention again" test "$(aws logs describe-log-groups --log-group-name-prefix /drift/stage/app --query 'logGroups[0].retentionInDays' --output text)" = 14
check "and ECS the applied desired count" test "$(aws ecs describe-services --cluster stage-drift --services web --query 'services[0].desiredCount' --output text)" = 1
check "and S3 the website" test "$(aws s3api get-bucket-website --bucket drift-site-stage --query 'IndexDocument.Suffix' --output text)" = index.html
check "nothing pending either" test "$(jq_ "$E2E_TMP/drift.json" "d['counts']['pending']")" = 0

secret="drift-secret-$$-never-shown"
check "the secret is in no report and no state file" bash -c "! grep -rqF -- '$secret' '$proj' '$E2E_TMP/drift.json' '$E2E_TMP/drift.md'"
check "the secret is in no output" bash -c "! printf '%s' \"\$0\" | grep -qF -- '$secret'" "$OUT$ERR"

finish
