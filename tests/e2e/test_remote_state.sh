#!/usr/bin/env bash
# The shared state backend (state: { backend: s3 }) end to end, against moto with signature
# checking on, with two copies of one project standing for two machines: what one applies,
# the other plans as nothing to do; while one apply holds the lock the other is refused with
# the holder named; a killed holder's lock is released with `state unlock`; a snapshot that
# does not match its digest (damaged, or stale) is refused, never used.
. "$(dirname "$0")/lib.sh"

moto_start
moto_enable_auth

account=$(aws sts get-caller-identity --query Account --output text)
bucket="plumb-state-$account"
# what `plumb bootstrap` will make: a versioned bucket and the lock table
aws s3api create-bucket --bucket "$bucket" >/dev/null
aws s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
aws dynamodb create-table --table-name plumb-locks --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=LockID,AttributeType=S \
  --key-schema AttributeName=LockID,KeyType=HASH >/dev/null

write_project() { # DIR RETENTION [WORKER_RETENTION]
  mkdir -p "$1"
  cat >"$1/plumb.yaml" <<YAML
project: shared
region: us-east-1
environments: { stage: {} }
state:
  backend: s3
  bucket: plumb-state-\${aws.account_id}
  lock_table: plumb-locks
resources:
  app:
    type: AWS::Logs::LogGroup
    properties: { LogGroupName: "/shared/\${env}/app", RetentionInDays: $2 }
  worker:
    type: AWS::Logs::LogGroup
    depends_on: [app]
    properties: { LogGroupName: "/shared/\${env}/worker", RetentionInDays: ${3:-7} }
YAML
}
a="$E2E_TMP/a" b="$E2E_TMP/b"
write_project "$a" 14
write_project "$b" 14
digest_item() { aws dynamodb get-item --table-name plumb-locks --key "{\"LockID\": {\"S\": \"$bucket/shared/stage/state.json-digest\"}}" --output json; }

# --- one machine applies, the other sees it -------------------------------------------------
run_plumb -C "$a" apply -e stage --auto-approve
check "machine A applies" expect_rc 0
check "the snapshot is in the bucket" bash -c "aws s3api head-object --bucket '$bucket' --key shared/stage/state.json >/dev/null"
check "its digest is in the table" bash -c "printf '%s' \"\$0\" | grep -q '\"Digest\"'" "$(digest_item)"
check "no lock is left behind" test "$(aws dynamodb scan --table-name plumb-locks --query 'length(Items)' --output text)" = 1
run_plumb -C "$b" plan -e stage --detailed-exitcode
check "machine B's plan is empty" expect_rc 0
run_plumb -C "$b" state list -e stage
check "B lists what A made" expect_out "app"

# --- a change from B, seen by A -------------------------------------------------------------
write_project "$b" 30
run_plumb -C "$b" apply -e stage --auto-approve
check "machine B applies a change" expect_rc 0
write_project "$a" 30
run_plumb -C "$a" plan -e stage --detailed-exitcode
check "A, with B's state pulled, has nothing to do" expect_rc 0

# --- one writer at a time, across machines ----------------------------------------------------
# A's apply runs slowly (every request 2 s late) and holds the lock meanwhile
python3 "$PLUMB_SOURCE_DIR/tests/tools/fault_proxy.py" --target "$MOTO_URL" --latency-ms 2000 >"$E2E_TMP/port" &
proxy=$!
until [ -s "$E2E_TMP/port" ]; do sleep 0.05; done
write_project "$a" 60 5 # two actions, one after the other: a checkpoint between them
serial_before=$(digest_item | python3 -c 'import json,sys; print(json.load(sys.stdin)["Item"]["Serial"]["S"])')
AWS_ENDPOINT_URL="http://127.0.0.1:$(head -1 "$E2E_TMP/port")" "$PLUMB" -C "$a" apply -e stage --auto-approve >"$E2E_TMP/a.out" 2>&1 &
holder=$!
for _ in $(seq 100); do # until A holds the lock
  [ "$(aws dynamodb get-item --table-name plumb-locks --key "{\"LockID\": {\"S\": \"$bucket/shared/stage/state.json\"}}" --query 'Item.LockID.S' --output text)" != None ] && break
  sleep 0.1
done
write_project "$b" 90
run_plumb -C "$b" apply -e stage --auto-approve
check "B is refused while A holds the lock" expect_rc 1
check "the holder is named" expect_err "locked by .* \(pid $holder on host .*, running 'apply' since .*\)"
check "with the way out" expect_err "plumb state unlock -e stage [0-9a-f]{32}"

# --- a holder killed mid-run: its checkpoint is shared, its lock stays until unlocked ------------
for _ in $(seq 300); do # until A's first action is checkpointed to the shared state
  [ "$(digest_item | python3 -c 'import json,sys; print(json.load(sys.stdin)["Item"]["Serial"]["S"])')" != "$serial_before" ] && break
  sleep 0.1
done
kill -9 $holder
wait $holder 2>/dev/null
kill $proxy
run_plumb -C "$b" apply -e stage --auto-approve
check "the dead holder's lock still refuses B" expect_rc 1
lock_id=$(printf '%s' "$ERR" | grep -oE 'state unlock -e stage [0-9a-f]{32}' | grep -oE '[0-9a-f]{32}$')
run_plumb -C "$b" state unlock -e stage 0123456789abcdef0123456789abcdef --auto-approve
check "unlock wants the holder's lock id" expect_rc 1
run_plumb -C "$b" state unlock -e stage "$lock_id" </dev/null
check "unlock asks, and without a terminal the answer is no" expect_rc 1
run_plumb -C "$b" state unlock -e stage "$lock_id" --auto-approve
check "unlock releases a dead holder's lock" expect_rc 0
check "and says whose it was" expect_err "locked by .* \(pid $holder on .*, running 'apply' since"
run_plumb -C "$b" state show app -e stage
check "B sees what A did before it was killed (its checkpoint)" expect_out '"RetentionInDays": 60'
run_plumb -C "$b" apply -e stage --auto-approve
check "then B applies" expect_rc 0
check "the aws CLI sees B's retention" test "$(aws logs describe-log-groups --log-group-name-prefix /shared/stage/app --query 'logGroups[0].retentionInDays' --output text)" = 90

# --- a snapshot that does not match its digest is refused ---------------------------------------
c="$E2E_TMP/c"
write_project "$c" 90
good=$(digest_item | python3 -c 'import json,sys; print(json.load(sys.stdin)["Item"]["VersionId"]["S"])')
printf '{"damaged": true}' >"$E2E_TMP/damaged.json"
bad=$(aws s3api put-object --bucket "$bucket" --key shared/stage/state.json --body "$E2E_TMP/damaged.json" --query VersionId --output text)
aws dynamodb update-item --table-name plumb-locks --key "{\"LockID\": {\"S\": \"$bucket/shared/stage/state.json-digest\"}}" \
  --update-expression 'SET VersionId = :v' --expression-attribute-values "{\":v\": {\"S\": \"$bad\"}}" >/dev/null
run_plumb -C "$c" plan -e stage
check "a damaged snapshot is refused" expect_rc 1
check "the error says why" expect_err "does not match its digest"
check "nothing of it reached the local cache" bash -c "! '$PLUMB' -C '$c' state list -e stage 2>/dev/null | grep -q app"
# a stale one: the digest describes a newer serial than the object holds
aws dynamodb update-item --table-name plumb-locks --key "{\"LockID\": {\"S\": \"$bucket/shared/stage/state.json-digest\"}}" \
  --update-expression 'SET VersionId = :v, Serial = :s' --expression-attribute-values "{\":v\": {\"S\": \"$good\"}, \":s\": {\"S\": \"999\"}}" >/dev/null
run_plumb -C "$c" plan -e stage
check "a stale snapshot is refused" expect_rc 1
check "as not the one its digest describes" expect_err "not the one its digest describes \(serial 999"

finish
