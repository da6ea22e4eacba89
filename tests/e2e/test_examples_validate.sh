#!/usr/bin/env bash
# Every shipped example is valid and has the graph it should: `plumb validate` exits 0 with the
# expected resource count per environment, and `plumb graph --format json` for each
# environment lists that many resources and the dependencies that matter. Every shipped module
# is exercised (the examples use four; state-backend gets a small project of its own). No AWS
# call, so no moto: a broken example or module fails here before anyone applies it.
. "$(dirname "$0")/lib.sh"

# Bare module names resolve to this source tree's modules, whatever the binary was built with.
export PLUMB_MODULES_DIR="$PLUMB_SOURCE_DIR/modules"
examples="$PLUMB_SOURCE_DIR/examples"

# example -> "resources in stage, resources in prod" (the same topology in both today)
declare -A COUNTS=(
  [cloudshop]="19 19"
  [django-blog]="5 5"
  [astro-ai]="13 13"
  [containrlab]="27 27"
)

# example -> edges "from>to" that the stage graph must hold
declare -A EDGES=(
  [cloudshop]="service>listener listener>alb module.site.policy>module.site.bucket db>db_subnets"
  [django-blog]="module.api.service>repo module.api.service>module.api.access_role module.api.service>module.api.scaling"
  [astro-ai]="module.app.service>module.db.db module.app.instance_role>app_secret module.db.db>module.db.subnets module.db.subnets>subnet_a db_sg>connector_sg"
  [containrlab]="module.api.rule>listener module.web.rule>listener module.api.service>module.api.rule module.web.service>module.web.rule module.api.task>api_repo module.api.service>cluster listener>alb"
)

# The same JSON checks for every graph: node count, edges between known nodes, the edges asked.
graph_ok() { # JSON COUNT EDGES
  python3 - "$@" <<'PY'
import json, sys
g = json.loads(sys.argv[1])
want = int(sys.argv[2])
names = [n["name"] for n in g["nodes"]]
edges = {(e["from"], e["to"]) for e in g["edges"]}
assert g["format_version"] == "1", g.get("format_version")
assert len(names) == want, f"{len(names)} nodes, expected {want}: {names}"
assert len(set(names)) == len(names), f"duplicate nodes: {names}"
for a, b in edges:
    assert a in names and b in names, f"edge {a} -> {b} names an unknown node"
for pair in sys.argv[3].split():
    a, b = pair.split(">")
    assert (a, b) in edges, f"missing edge {a} -> {b}; edges: {sorted(edges)}"
PY
}

# No example is left without expectations (adding one means adding its counts above).
found=$(cd "$examples" && for d in */; do [ -f "$d/plumb.yaml" ] && printf '%s\n' "${d%/}"; done | sort)
expected=$(printf '%s\n' "${!COUNTS[@]}" | sort)
check "every example has expectations in this test" test "$found" = "$expected"

for ex in $expected; do
  dir="$examples/$ex"
  read -r stage prod <<<"${COUNTS[$ex]}"

  check "$ex: has a README" test -s "$dir/README.md"

  run_plumb -C "$dir" validate
  check "$ex: validate exits 0" expect_rc 0
  check "$ex: validate counts stage $stage, prod $prod" \
    expect_out "is valid: 2 environments \(resources: stage $stage, prod $prod\)"
  check "$ex: validate prints no warning or error" test -z "$ERR"

  run_plumb -C "$dir" graph -e stage --format json
  check "$ex: graph -e stage exits 0" expect_rc 0
  check "$ex: stage graph has $stage resources and its key edges" graph_ok "$OUT" "$stage" "${EDGES[$ex]}"

  run_plumb -C "$dir" graph -e prod --format json
  check "$ex: graph -e prod exits 0" expect_rc 0
  check "$ex: prod graph has $prod resources" graph_ok "$OUT" "$prod" ""

  run_plumb -C "$dir" graph -e stage
  check "$ex: graph renders as dot" expect_out '^digraph plumb \{'
done

# Each shipped module has a README, and the one no example uses is valid on its own.
for m in "$PLUMB_SOURCE_DIR"/modules/*/; do
  check "module $(basename "$m"): has plumb.yaml and README.md" test -s "$m/plumb.yaml" -a -s "$m/README.md"
done

proj="$E2E_TMP/bootstrap"
mkdir -p "$proj"
cat >"$proj/plumb.yaml" <<'YAML'
project: demo-bootstrap
region: us-east-1
environments:
  shared: {}
modules:
  state:
    source: state-backend
    inputs:
      bucket_name: demo-plumb-state-${aws.account_id}
      lock_table_name: demo-plumb-locks
outputs:
  bucket: ${module.state.bucket_name}
  lock_table: ${module.state.lock_table_name}
YAML
run_plumb -C "$proj" validate
check "state-backend: a project using it is valid" expect_rc 0
check "state-backend: bucket, policy and lock table" expect_out "resources: shared 3\)"
run_plumb -C "$proj" graph -e shared --format json
check "state-backend: the policy depends on the bucket" \
  graph_ok "$OUT" 3 "module.state.tls_only>module.state.bucket"

# --- plumb audit: the examples' verdicts (docs/audit.md), the exit codes --------------------------
# example -> "stage exit, prod exit": GO everywhere in stage, CONDITIONAL GO (warnings) in prod
declare -A AUDIT=([cloudshop]="0 1" [django-blog]="0 1" [astro-ai]="0 1" [containrlab]="0 1")
for ex in "${!AUDIT[@]}"; do
  want=(${AUDIT[$ex]})
  run_plumb -C "$examples/$ex" --no-color audit -e stage --refresh=false
  check "audit: $ex stage is GO" expect_rc "${want[0]}"
  check "audit: $ex stage says so last" bash -c "[ \"\$(printf '%s' \"\$0\" | tail -1)\" = GO ]" "$OUT"
  run_plumb -C "$examples/$ex" --no-color audit -e prod --refresh=false
  check "audit: $ex prod is CONDITIONAL GO" expect_rc "${want[1]}"
done
run_plumb -C "$examples/cloudshop" audit -e stage --refresh=false --json
check "audit: cloudshop's waiver is reported with its reason" bash -c "printf '%s' \"\$0\" | python3 -c 'import json,sys; d=json.load(sys.stdin); f=[x for x in d[\"findings\"] if x[\"rule\"]==\"S3002\"][0]; assert f[\"waived\"] and \"static website\" in f[\"waiver\"] and d[\"format_version\"]==\"1\", d'" "$OUT"
mkdir -p "$E2E_TMP/nogo"
cat >"$E2E_TMP/nogo/plumb.yaml" <<'YAML'
project: nogo
environments: { prod: { protect: true } }
resources:
  db:
    type: AWS::RDS::DBInstance
    properties:
      DBInstanceIdentifier: nogo
      Engine: postgres
      DBInstanceClass: db.t3.micro
      AllocatedStorage: "20"
      PubliclyAccessible: true
YAML
run_plumb -C "$E2E_TMP/nogo" --no-color audit -e prod --refresh=false
check "audit: a public database is NO-GO (exit 2)" expect_rc 2
check "audit: naming the rule, the resource and the property" expect_out "FAIL   RDS002  db PubliclyAccessible"
check "audit: the verdict comes last" bash -c "[ \"\$(printf '%s' \"\$0\" | tail -1)\" = NO-GO ]" "$OUT"
run_plumb -C "$E2E_TMP/nogo" audit -e nowhere --refresh=false
check "audit: an audit that cannot run exits 3" expect_rc 3

finish
