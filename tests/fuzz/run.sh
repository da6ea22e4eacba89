#!/bin/sh
# Builds the libFuzzer targets with clang into build-fuzz/ and runs them (docs/testing.md).
#
#   tests/fuzz/run.sh [TARGET] [SECONDS]    TARGET: yaml, expr or all (default), SECONDS: 60
#
# Not part of the CMake build, which is gcc's: the targets compile the few sources they need
# directly. New inputs found go to build-fuzz/corpus/TARGET (the seeds in
# tests/fuzz/corpus/TARGET are only read), crashes to build-fuzz/artifacts/.
# Set FUZZ_JOBS=N to run N processes per target; extra libFuzzer flags in FUZZ_FLAGS.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:-all}
seconds=${2:-60}
out=$root/build-fuzz
cc=${CC:-clang}
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
# What the targets reach in src/: the loader, the expression parser and the utilities they use.
sources="$root/src/config/yaml.c $root/src/config/expr.c $root/src/util/buf.c
         $root/src/util/diag.c $root/src/util/error.c"

case $target in
yaml | expr) targets=$target ;;
all) targets="yaml expr" ;;
*)
    echo "usage: $0 [yaml|expr|all] [SECONDS]" >&2
    exit 2
    ;;
esac

mkdir -p "$out/artifacts"
for t in $targets; do
    # shellcheck disable=SC2086 # word splitting of the flag and source lists is wanted
    $cc -std=gnu11 $flags -D_GNU_SOURCE -I"$root/src" -o "$out/fuzz_$t" \
        "$root/tests/fuzz/fuzz_$t.c" $sources -lyaml -ljansson -lm
done

status=0
for t in $targets; do
    mkdir -p "$out/corpus/$t"
    dict=
    [ -f "$root/tests/fuzz/$t.dict" ] && dict="-dict=$root/tests/fuzz/$t.dict"
    echo "fuzz_$t: ${seconds}s" >&2
    jobs=
    [ -n "${FUZZ_JOBS:-}" ] && jobs="-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS"
    # shellcheck disable=SC2086
    "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/${t}-" $jobs $dict ${FUZZ_FLAGS:-} \
        "$out/corpus/$t" "$root/tests/fuzz/corpus/$t" || status=$?
done
exit $status
