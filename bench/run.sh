#!/usr/bin/env bash
# Every benchmark, and one table of the figures against plumb's targets (docs/performance.md).
# Needs scripts/setup.sh first; builds build/ when it is missing. About 6 minutes on the
# project's 2-core machine. Each script's full output is kept in bench/out/.
#   bench/run.sh [PLUMB]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "${1:-build/plumb}" ] || ./scripts/build.sh >/dev/null
plumb=$(realpath "${1:-build/plumb}")
# the interpreter's own bin first: pyenv's shims cost a quarter second a call
py=$(python3 -c 'import sys, os; print(os.path.dirname(sys.executable))')
export PATH="$py:$PATH"
out=bench/out
mkdir -p "$out"
step() { # NAME SCRIPT ARGS...
  local name=$1
  shift
  echo "== $name: $*" >&2
  local start=$SECONDS
  "$@" >"$out/$name.txt" 2>&1 || { echo "bench: $name failed, see $out/$name.txt" >&2; tail -20 "$out/$name.txt" >&2; exit 1; }
  echo "   $((SECONDS - start)) s" >&2
}
step plan bench/plan.sh "$plumb"
step refresh-cloudshop bench/refresh.sh examples/cloudshop "$plumb"
step refresh-1000 bench/refresh.sh 1000 "$plumb"
step apply bench/apply.sh examples/cloudshop "$plumb"
step compare bench/compare.sh 3 "$plumb"

python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def text(name):
    return open(f"{out}/{name}.txt").read()
def num(name, label):
    m = re.search(re.escape(label) + r"\s*([0-9.]+)", text(name))
    return float(m.group(1))
rows = []
plan = {}
for line in text("plan").splitlines():
    f = line.split()
    if f and f[0].isdigit():
        plan[int(f[0])] = (float(f[1]), float(f[2]), f[3], f[4])
for n in (1000, 10000, 100000):
    t, mb, instr, per = plan[n]
    rows.append((f"plan --refresh=false, {n:,} resources", f"{t:.2f} s, {mb:.0f} MB, {instr} instr ({per}/res)",
                 "10,000: < 0.5 s, < 200 MB" if n == 10000 else "linear", (t < 0.5 and mb < 200) if n == 10000 else None))
lin = plan[100000][0] / plan[1000][0] if plan[1000][0] else 0
rows.append(("plan growth 1,000 -> 100,000 (x100 resources)", f"x{lin:.0f} wall; instr/res {plan[1000][3]} -> {plan[10000][3]}",
             "linear", None))
for name, label in (("refresh-cloudshop", "cloudshop (19)"), ("refresh-1000", "generated (1,000)")):
    per = num(name, "requests per resource:")
    wall = num(name, "refresh wall time:")
    rows.append((f"refresh, {label}", f"{per:.2f} requests/resource, {wall:.2f} s", "<= 1 request/resource", per <= 1.0))
drift = num("refresh-cloudshop", "plumb drift requests:")
refresh = num("refresh-cloudshop", "refresh requests:")
rows.append(("drift, cloudshop", f"{drift:.0f} requests (refresh {refresh:.0f} + GetResources)", "", None))
ratio = num("apply", "ratio to the bound:")
rows.append(("apply cloudshop, +100 ms/request", f"{num('apply', 'plumb apply wall time:'):.2f} s, bound {num('apply', 'lower bound at 100 ms/request:'):.2f} s: {ratio:.2f}x",
             "<= 1.3x the bound", ratio <= 1.3))
cli = num("compare", "plumb / aws CLI script:")
b3 = num("compare", "plumb / boto3 script:")
med = {k: num("compare", f"  {k}") for k in ("plumb", "aws_cli", "boto3")}
rows.append(("cloudshop on moto: plumb / aws CLI script", f"{cli:.3f} ({med['plumb']:.2f} s / {med['aws_cli']:.2f} s)", "< 0.1", cli < 0.1))
rows.append(("cloudshop on moto: plumb / boto3 script", f"{b3:.3f} ({med['plumb']:.2f} s / {med['boto3']:.2f} s)", "< 1", b3 < 1))
w = max(len(r[0]) for r in rows)
v = max(len(r[1]) for r in rows)
print(f"{'measure':<{w}}  {'figure':<{v}}  {'target':<26} met")
for m, f, t, ok in rows:
    print(f"{m:<{w}}  {f:<{v}}  {t:<26} {'-' if ok is None else ('yes' if ok else 'NO')}")
PY
