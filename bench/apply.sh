#!/usr/bin/env bash
# Apply of an example behind a proxy adding LATENCY_MS (default 100) to every request, against
# the lower bound its dependency graph allows: the longest chain of sequential AWS requests
# (each action's requests, from the run's journal, summed along dependencies, plus the
# identity call before it) times the latency.
#   bench/apply.sh [EXAMPLE] [PLUMB]     (default examples/cloudshop, build/plumb)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
example=${1:-examples/cloudshop}
plumb=$(realpath "${2:-build/plumb}")
latency=${LATENCY_MS:-100}
export PLUMB=$plumb
E2E_TMP=$(mktemp -d)
. tests/tools/moto.sh
proxy_pid=""
trap 'kill $proxy_pid 2>/dev/null; moto_stop; rm -rf "$E2E_TMP"' EXIT

moto_start
moto_enable_auth
python3 tests/tools/latency_proxy.py --target "$MOTO_URL" --latency-ms "$latency" >"$E2E_TMP/port" &
proxy_pid=$!
until [ -s "$E2E_TMP/port" ]; do sleep 0.05; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$(head -1 "$E2E_TMP/port")"
cp -r "$example" "$E2E_TMP/project"
cd "$E2E_TMP/project"
export CLOUDSHOP_DB_PASSWORD=bench-password-123 ASTRO_AI_SECRET=bench-secret

start=$(date +%s.%N)
"$plumb" -q --stats apply -e stage --auto-approve --parallelism 10 >/dev/null 2>"$E2E_TMP/stats"
end=$(date +%s.%N)
run=$("$plumb" runs -e stage --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][-1]["id"])')
"$plumb" runs -e stage --run "$run" >"$E2E_TMP/journal.json"
python3 - "$E2E_TMP/journal.json" "$start" "$end" "$latency" "$E2E_TMP/stats" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["journal"]
start, end, latency = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]) / 1000
done = {e["address"]: e for e in j if e.get("phase") == "done"}
memo = {}
def path(a):
    if a not in memo:
        e = done[a]
        memo[a] = e.get("requests", 0) + max([path(d) for d in (e.get("depends_on") or []) if d in done] or [0])
    return memo[a]
chain = max(path(a) for a in done) + 1  # + GetCallerIdentity before anything starts
total = sum(e.get("requests", 0) for e in done.values()) + 1
bound = chain * latency
wall = end - start
print(f"resources applied:            {len(done)}")
print(f"AWS requests in all:          {total}")
print(f"longest chain of requests:    {chain}")
print(f"lower bound at {latency*1000:.0f} ms/request: {bound:.2f} s")
print(f"plumb apply wall time:        {wall:.2f} s")
print(f"ratio to the bound:           {wall / bound:.2f}x")
print(open(sys.argv[5]).read().strip())
PY
