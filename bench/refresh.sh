#!/usr/bin/env bash
# Refresh cost of an example: applies it for `stage` on a local moto, then counts the AWS
# requests of `plumb refresh` (from --stats) per managed resource. The target is at most one.
#   bench/refresh.sh [EXAMPLE|N] [PLUMB]   (default examples/cloudshop, build/plumb; a number N:
#                                          a generated project of N resources, gen_project.py)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
example=${1:-examples/cloudshop}
plumb=$(realpath "${2:-build/plumb}")
export PLUMB=$plumb
E2E_TMP=$(mktemp -d)
. tests/tools/moto.sh
trap 'moto_stop; rm -rf "$E2E_TMP"' EXIT

moto_start
moto_enable_auth
if [[ $example =~ ^[0-9]+$ ]]; then
  python3 bench/gen_project.py "$example" "$E2E_TMP/project" --appliable
else
  cp -r "$example" "$E2E_TMP/project"
fi
cd "$E2E_TMP/project"
python3 "$root/tests/tools/strip_checks.py" plumb.yaml
export CLOUDSHOP_DB_PASSWORD=bench-password-123 ASTRO_AI_SECRET=bench-secret \
  ASTRO_AI_DB_PASSWORD=bench-password-456 DJANGO_SECRET_KEY=bench DATABASE_URL=postgres://x \
  SUPABASE_API_KEY=bench
"$plumb" -q apply -e stage --auto-approve >"$E2E_TMP/out" 2>&1 || { cat "$E2E_TMP/out" >&2; exit 1; }
start=$(date +%s.%N)
"$plumb" --stats refresh -e stage >"$E2E_TMP/out" 2>"$E2E_TMP/stats"
end=$(date +%s.%N)
"$plumb" --stats drift -e stage >"$E2E_TMP/out" 2>"$E2E_TMP/drift-stats" || [ $? = 2 ]
resources=$("$plumb" state list -e stage | grep -c .)
python3 - "$E2E_TMP/stats" "$resources" "$E2E_TMP/drift-stats" "$(echo "$end - $start" | bc)" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
n = int(sys.argv[2])
def total_of(t):
    return int(re.search(r"^total\s+(\d+)\s", t.split("AWS requests:")[1], re.M).group(1))
total = total_of(text)
drift = total_of(open(sys.argv[3]).read())
sts = re.search(r"^sts\s+(\d+)\s", text, re.M)
sts = int(sts.group(1)) if sts else 0
print(f"resources:                    {n}")
print(f"refresh requests:             {total} ({sts} of them STS GetCallerIdentity)")
print(f"requests per resource:        {total / n:.2f} ({(total - sts) / n:.2f} without STS)")
print(f"refresh wall time:            {float(sys.argv[4]):.2f} s")
print(f"plumb drift requests:         {drift} (the refresh's reads and the tagging API's GetResources)")
print(text.split("AWS requests:")[1].strip())
PY
