#!/usr/bin/env bash
# The same deployment — examples/cloudshop's stage, 19 resources — done three ways on the same
# fresh moto (signature checking on), in rounds with the order rotated: `plumb apply`, the seed
# team's way (a shell script of `aws` CLI calls, bench/baselines/cloudshop.sh), and a boto3
# script making those calls in one process (bench/baselines/cloudshop_boto3.py). Prints the
# median wall time of each and the ratios.
#   bench/compare.sh [ROUNDS] [PLUMB]      (default 3 rounds, build/plumb)
# LATENCY_MS=100 puts tests/tools/fault_proxy.py in front of moto for all three: a region's
# round trip, where plumb's parallel requests count and moto's own CPU time matters less.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rounds=${1:-3}
plumb=$(realpath "${2:-build/plumb}")
export PLUMB=$plumb
E2E_TMP=$(mktemp -d)
. tests/tools/moto.sh
proxy=""
trap '{ [ -z "$proxy" ] || kill "$proxy" 2>/dev/null; } || true; moto_stop; rm -rf "$E2E_TMP"' EXIT
export CLOUDSHOP_DB_PASSWORD=bench-password-123

timed() { # NAME CMD...: appends "NAME seconds" to $E2E_TMP/times; the command's output to a log
  local name=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" >>"$E2E_TMP/$name.log" 2>&1 || { echo "bench: $name failed:" >&2; tail -20 "$E2E_TMP/$name.log" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$name $(echo "$end - $start" | bc)" >>"$E2E_TMP/times"
}
run_plumb_apply() {
  rm -rf "$E2E_TMP/project"
  cp -r "$root/examples/cloudshop" "$E2E_TMP/project"
  python3 "$root/tests/tools/strip_checks.py" "$E2E_TMP/project/plumb.yaml"
  "$plumb" -C "$E2E_TMP/project" -q apply -e stage --auto-approve
}

for r in $(seq "$rounds"); do
  moto_start
  moto_enable_auth
  # moto loads each service's backend on its first request: not part of anyone's time
  python3 - <<'PY'
import boto3, os
for s, op in [("ec2", "describe_vpcs"), ("ecs", "list_clusters"), ("elbv2", "describe_load_balancers"),
              ("rds", "describe_db_instances"), ("iam", "list_roles"), ("s3", "list_buckets"),
              ("logs", "describe_log_groups"), ("ecr", "describe_repositories"), ("sts", "get_caller_identity"),
              # the tagging API walks every service's backend: moto loads them all on its first call
              ("resourcegroupstaggingapi", "get_resources")]:
    getattr(boto3.client(s, endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1"), op)()
PY
  if [ -n "${LATENCY_MS:-}" ]; then
    python3 "$root/tests/tools/fault_proxy.py" --target "$MOTO_URL" --latency-ms "$LATENCY_MS" >"$E2E_TMP/port" &
    proxy=$!
    until [ -s "$E2E_TMP/port" ]; do sleep 0.05; done
    export AWS_ENDPOINT_URL="http://127.0.0.1:$(head -1 "$E2E_TMP/port")"
    rm -f "$E2E_TMP/port"
  fi
  order=(plumb cli boto3)
  for i in $(seq 0 2); do
    case ${order[$(((i + r) % 3))]} in
      plumb) timed plumb run_plumb_apply ;;
      cli) timed aws_cli bash "$root/bench/baselines/cloudshop.sh" "cli$r" ;;
      boto3) timed boto3 python3 "$root/bench/baselines/cloudshop_boto3.py" "py$r" ;;
    esac
  done
  [ -n "$proxy" ] && kill "$proxy" 2>/dev/null && proxy=""
  moto_stop
done

python3 - "$E2E_TMP/times" "$rounds" <<'PY'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    name, t = line.split()
    times.setdefault(name, []).append(float(t))
med = {k: statistics.median(v) for k, v in times.items()}
import os
lat = os.environ.get("LATENCY_MS")
print(f"cloudshop stage (19 resources) on moto{f' behind {lat} ms a request' if lat else ''}, median of {sys.argv[2]} rounds, order rotated:")
for k in ("plumb", "aws_cli", "boto3"):
    print(f"  {k:<8} {med[k]:7.2f} s   runs: {', '.join(f'{t:.2f}' for t in times[k])}")
print(f"plumb / aws CLI script:  {med['plumb'] / med['aws_cli']:.3f}  (target under 0.1)")
print(f"plumb / boto3 script:    {med['plumb'] / med['boto3']:.3f}  (target under 1)")
PY
