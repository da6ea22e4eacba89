#!/usr/bin/env bash
# Apply of an example behind a proxy adding LATENCY_MS (default 100) to every request, against
# the lower bound its dependency graph allows: the longest chain of sequential AWS requests
# (each action's requests, from the run's journal, summed along dependencies, plus the
# identity call before it) times the latency. Also the same chain walked with the actions'
# measured times, which separates plumb's overhead from the emulator's own service time.
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
# moto loads each service's backend on its first request (a second or more for EC2 and IAM):
# one read per service first, straight to moto, so the timing is of plumb, not of that.
python3 - <<'PY'
import boto3, os
url = os.environ["MOTO_URL"]
reads = {"sts": "get_caller_identity", "logs": "describe_log_groups",
         "ecr": "describe_repositories", "ecs": "list_clusters", "iam": "list_roles",
         "ec2": "describe_vpcs", "s3": "list_buckets", "elbv2": "describe_load_balancers",
         "rds": "describe_db_instances", "secretsmanager": "list_secrets",
         # the tagging API walks every service's backend: moto loads them all on its first call
         "resourcegroupstaggingapi": "get_resources"}
for service, op in reads.items():
    getattr(boto3.client(service, endpoint_url=url, region_name="us-east-1"), op)()
PY
python3 tests/tools/fault_proxy.py --target "$MOTO_URL" --latency-ms "$latency" >"$E2E_TMP/port" &
proxy_pid=$!
until [ -s "$E2E_TMP/port" ]; do sleep 0.05; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$(head -1 "$E2E_TMP/port")"
cp -r "$example" "$E2E_TMP/project"
cd "$E2E_TMP/project"
# without the post-apply health checks: they GET the load balancer's DNS name (no emulator
# serves it), and the bound counts AWS requests only
python3 "$root/tests/tools/strip_checks.py" plumb.yaml
export CLOUDSHOP_DB_PASSWORD=bench-password-123 ASTRO_AI_SECRET=bench-secret

start=$(date +%s.%N)
"$plumb" -q --stats apply -e stage --auto-approve --parallelism 10 >"$E2E_TMP/out" 2>"$E2E_TMP/stats" || { cat "$E2E_TMP/out" "$E2E_TMP/stats" >&2; exit 1; }
end=$(date +%s.%N)
run=$("$plumb" runs -e stage --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][-1]["id"])')
"$plumb" runs -e stage --run "$run" >"$E2E_TMP/journal.json"
python3 - "$E2E_TMP/journal.json" "$start" "$end" "$latency" "$E2E_TMP/stats" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["journal"]
start, end, latency = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]) / 1000
done = {e["address"]: e for e in j if e.get("phase") == "done"}
def longest(field):
    """The longest dependency chain, summing each action's `field` along it."""
    memo = {}
    def walk(a):
        if a not in memo:
            e = done[a]
            memo[a] = e.get(field, 0) + max([walk(d) for d in (e.get("depends_on") or []) if d in done] or [0])
        return memo[a]
    return max(walk(a) for a in done)
chain = longest("requests") + 1  # + GetCallerIdentity before anything starts
# The same chain walked with each action's measured time (its requests as the emulator served
# them, waits included): what a perfect scheduler could not beat on this emulator. wall over it
# is plumb's own overhead; it over the nominal bound is the emulator's service time.
measured = longest("seconds")
total = sum(e.get("requests", 0) for e in done.values()) + 1
bound = chain * latency
wall = end - start
print(f"resources applied:            {len(done)}")
print(f"AWS requests in all:          {total}")
print(f"longest chain of requests:    {chain}")
print(f"lower bound at {latency*1000:.0f} ms/request: {bound:.2f} s")
print(f"plumb apply wall time:        {wall:.2f} s")
print(f"ratio to the bound:           {wall / bound:.2f}x")
print(f"longest chain, measured:      {measured:.2f} s (actions' own times along dependencies)")
print(f"wall over measured chain:     {wall / measured:.2f}x (plumb's scheduling and start-up)")
def chain_of(field):
    """The addresses along the longest chain by `field`, first to last."""
    best = {}
    def walk(a):
        if a not in best:
            deps = [d for d in (done[a].get("depends_on") or []) if d in done]
            prev = max(deps, key=lambda d: walk(d)[0]) if deps else None
            best[a] = (done[a].get(field, 0) + (walk(prev)[0] if prev else 0), prev)
        return best[a]
    last = max(done, key=lambda a: walk(a)[0])
    path = []
    while last:
        path.append(last)
        last = best[last][1]
    return path[::-1]
print("the measured chain:           " + " -> ".join(
    f"{a} ({done[a].get('requests', 0)} req, {done[a].get('seconds', 0):.2f} s)" for a in chain_of("seconds")))
print(open(sys.argv[5]).read().strip())
PY
