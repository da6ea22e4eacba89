#!/usr/bin/env bash
# Loading and validating generated projects: wall time (median of 5) and peak memory of
# `plumb validate` (both environments resolved) at 1,000, 10,000 and 100,000 resources.
#   bench/validate.sh [PLUMB]       (default: build/plumb; build it with scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
plumb=${1:-build/plumb}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%-10s %12s %14s %12s\n' resources "median (s)" "peak RSS (MB)" "s / 1k res"
for n in 1000 10000 100000; do
  python3 bench/gen_project.py "$n" "$tmp/p$n"
  times=()
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$plumb" -C "$tmp/p$n" validate >/dev/null
    times+=("$(cat "$tmp/t")")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  secs=${median% *}
  rss=${median#* }
  printf '%-10s %12s %14.1f %12.4f\n' "$n" "$secs" "$(echo "$rss / 1024" | bc -l)" \
    "$(echo "$secs / ($n / 1000)" | bc -l)"
done

# One very long scalar: 200,000 references on one line (1.2 MB once resolved, so validate
# rejects it as too long; what is timed is loading, resolving and reporting it). Columns in
# messages are counted in characters from the start of the line; this row shows that stays
# linear (it once did not, under sanitizers, through strndup).
python3 - "$tmp/long" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
value = "é${env}" * 200000
with open(os.path.join(d, "plumb.yaml"), "w", encoding="utf-8") as f:
    f.write("project: long\nregion: us-east-1\nenvironments: {stage: {}}\nresources:\n"
            "  logs:\n    type: AWS::Logs::LogGroup\n    properties:\n"
            f"      LogGroupName: \"{value}\"\n")
PY
/usr/bin/time -f '%e %M' -o "$tmp/t" "$plumb" -C "$tmp/long" validate >/dev/null 2>&1 || true
read -r secs rss < <(tail -n1 "$tmp/t")
printf '%-10s %12s %14.1f\n' "long line" "$secs" "$(echo "$rss / 1024" | bc -l)"

# Hostile YAML refused by the loader's limits (tests/config/yaml.c checks the refusals; here
# only their cost): nine levels of nine aliases ("billion laughs") and 3,000 mappings each
# merging the previous one (linear file, quadratic expansion). Both stop at the node limit.
python3 - "$tmp/laughs" "$tmp/merges" <<'PY'
import os, sys
for d in sys.argv[1:]:
    os.makedirs(d, exist_ok=True)
with open(os.path.join(sys.argv[1], "plumb.yaml"), "w") as f:
    f.write("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        f.write(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]\n")
with open(os.path.join(sys.argv[2], "plumb.yaml"), "w") as f:
    f.write("m0: &m0 {k0: 0}\n")
    for i in range(1, 3000):
        f.write(f"m{i}: &m{i} {{<<: *m{i - 1}, k{i}: {i}}}\n")
PY
for bomb in laughs merges; do
  /usr/bin/time -f '%e %M' -o "$tmp/t" "$plumb" -C "$tmp/$bomb" validate >/dev/null 2>&1 || true
  read -r secs rss < <(tail -n1 "$tmp/t")
  printf '%-10s %12s %14.1f\n' "$bomb" "$secs" "$(echo "$rss / 1024" | bc -l)"
done
