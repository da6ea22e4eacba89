#!/usr/bin/env bash
# plumb validate and plumb graph from the command line: the shipped example is valid, bad
# input exits 1 with every problem and writes nothing, the graph renders as dot and JSON.
. "$(dirname "$0")/lib.sh"

example="$PLUMB_SOURCE_DIR/examples/cloudshop"

run_plumb -C "$example" validate
check "the cloudshop example is valid" expect_rc 0
check "validate names both environments" expect_out "2 environments \(resources: stage 19, prod 19\)"

run_plumb -C "$example" graph -e stage --format json
check "graph --format json exits 0" expect_rc 0
check "the JSON graph has every resource and the dependencies" python3 -c '
import json, sys
g = json.loads(sys.argv[1])
names = {n["name"] for n in g["nodes"]}
edges = {(e["from"], e["to"]) for e in g["edges"]}
assert g["format_version"] == "1", g
assert len(names) == 19, names
assert ("service", "listener") in edges and ("listener", "alb") in edges, edges
assert ("module.site.policy", "module.site.bucket") in edges, edges
' "$OUT"

run_plumb -C "$example" graph -e stage
check "graph renders dot by default" expect_out '^digraph plumb \{'
check "dot edges read as 'depends on'" expect_out '"service" -> "task";'

run_plumb -C "$example" graph -e nope
check "an unknown environment is an error" expect_rc 1
check "the error lists the environments" expect_err "unknown environment 'nope' \(declared: stage, prod\)"

# --- bad input: every problem, exit 1, nothing written ---------------------------------------
bad="$E2E_TMP/bad"
mkdir -p "$bad"
cat >"$bad/plumb.yaml" <<'YAML'
project: demo
environments: { stage: {} }
resources:
  repo:
    type: AWS::ECR::Repository
    properties: { RepositoryName: "${var.missing}", ImageTagMutability: SOMETIMES }
  repo:
    type: AWS::ECR::Repository
YAML
before=$(find "$bad" | sort)
run_plumb -C "$bad" validate
check "bad input exits 1" expect_rc 1
check "a duplicate key is reported with both places" expect_err "plumb.yaml:7:3: error: duplicate key 'repo' \(first at plumb.yaml:4:3\)"
check "nothing was written" test "$before" = "$(find "$bad" | sort)"

printf 'project: [unclosed\n' >"$bad/plumb.yaml"
run_plumb -C "$bad" validate
check "malformed YAML exits 1" expect_rc 1
check "malformed YAML names line and column" expect_err "^plumb.yaml:[0-9]+:[0-9]+: error: "

run_plumb -C "$E2E_TMP/nowhere" validate
check "a missing directory is one clear error" expect_err "cannot change to directory"

finish
