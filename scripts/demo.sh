#!/usr/bin/env bash
# The README's first command: installs dependencies, builds plumb, starts a local AWS
# emulator (moto) on loopback with signature checking on, and shows plumb talking to it.
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
echo
echo "== plumb doctor: who plumb is, where, and through which endpoints"
echo "\$ plumb doctor"
"$PLUMB" --stats doctor
