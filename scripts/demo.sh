#!/usr/bin/env bash
# The README's first command: installs dependencies, builds plumb, starts a local AWS
# emulator (moto) on loopback with signature checking on, then shows plumb working against
# it on examples/cloudshop: doctor, validate, plan and apply for `stage`, and a plan that
# finds nothing left to do.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

./scripts/setup.sh
./scripts/build.sh build
export PLUMB="$root/build/plumb"

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumb-demo.XXXXXX")
. tests/tools/moto.sh
trap 'moto_stop; rm -rf "$E2E_TMP"' EXIT

echo "== starting moto_server (a local AWS emulator) with signature checking on"
moto_start
moto_enable_auth
echo "   $MOTO_URL, access key $AWS_ACCESS_KEY_ID"

# A copy of the example, so the demo leaves no state in the repository. Its post-apply health
# check asks the load balancer's DNS name for /health, which an emulator cannot serve: the
# demo's copy goes without it (a failing check would roll the whole apply back).
cp -r examples/cloudshop "$E2E_TMP/cloudshop"
cd "$E2E_TMP/cloudshop"
python3 "$root/tests/tools/strip_checks.py" plumb.yaml
export CLOUDSHOP_DB_PASSWORD="demo-$(date +%s)-password"
step() {
  echo
  echo "== $1"
  echo "\$ plumb ${*:2}"
  "$PLUMB" "${@:2}"
}
step "who plumb is, where, and through which endpoints" doctor
step "the configuration, checked against the schemas" validate
step "what apply would do in stage" plan -e stage
step "apply it (in parallel along the dependency graph)" --stats apply -e stage --auto-approve
step "nothing left to do" plan -e stage --detailed-exitcode
step "what plumb manages now" state list -e stage
