#!/usr/bin/env bash
# Offline plans (`plan --refresh=false`, no AWS call) of generated projects: wall time (median
# of 5), peak memory, and instructions (callgrind, stable from run to run) at 1,000, 10,000
# and 100,000 resources, plus the per-1,000 figures that show whether cost grows linearly.
#   bench/plan.sh [PLUMB]    (default build/plumb; SKIP_CALLGRIND=1 to skip valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
plumb=$(realpath "${1:-build/plumb}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%-10s %10s %14s %16s %14s\n' resources "median (s)" "peak RSS (MB)" "instructions" "instr / res"
for n in 1000 10000 100000; do
  python3 bench/gen_project.py "$n" "$tmp/p$n"
  times=()
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$plumb" -C "$tmp/p$n" -q plan -e stage --refresh=false >/dev/null
    times+=("$(cat "$tmp/t")")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  instr="-"
  per="-"
  if [ "${SKIP_CALLGRIND:-0}" != 1 ] && command -v valgrind >/dev/null && [ "$n" -le 10000 ]; then
    (cd "$tmp/p$n" && valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$plumb" -q plan -e stage --refresh=false >/dev/null 2>"$tmp/vg")
    instr=$(grep -oE 'Collected : [0-9]+' "$tmp/vg" | grep -oE '[0-9]+' || echo "-")
    [ "$instr" != "-" ] && per=$((instr / n))
  fi
  printf '%-10s %10s %14.1f %16s %14s\n' "$n" "${median% *}" "$(echo "${median#* } / 1024" | bc -l)" "$instr" "$per"
done
