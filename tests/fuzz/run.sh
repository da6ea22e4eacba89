#!/bin/sh
# Builds the libFuzzer targets with clang into build-fuzz/ and runs them (docs/testing.md).
#
#   tests/fuzz/run.sh [TARGET] [SECONDS]    TARGET: yaml, expr, xml, awserror, planfile or
#                                           all (default); SECONDS: 60 per target, 0 to
#                                           build only
#
# Not part of the CMake build, which is gcc's: the targets compile the few sources they need
# directly. New inputs found go to build-fuzz/corpus/TARGET (the seeds in
# tests/fuzz/corpus/TARGET are only read), crashes to build-fuzz/artifacts/. The CMake build
# replays every seed without clang (tests/fuzz/replay.c, the fuzz_* ctest tests).
# Set FUZZ_JOBS=N to run N processes per target; extra libFuzzer flags in FUZZ_FLAGS.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:-all}
seconds=${2:-60}
out=$root/build-fuzz
cc=${CC:-clang}
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
util="$root/src/util/buf.c $root/src/util/error.c"
# The AWS models, embedded as the CMake build embeds them (the protocol layer needs them).
models=$out/embedded_aws_models.c
aws="$root/src/aws/xml.c $root/src/aws/protocol.c $root/src/aws/protocol_json.c
     $root/src/aws/protocol_query.c $root/src/aws/protocol_restxml.c $root/src/aws/model.c
     $root/src/aws/http.c $root/src/util/kv.c $root/src/util/sys.c $root/src/util/embedded.c
     $models $util"

# What each target reaches in src/, and the libraries those need besides util/'s (jansson, and
# OpenSSL for base64).
sources() {
    case $1 in
    yaml | expr)
        echo "$root/src/config/yaml.c $root/src/config/expr.c $root/src/util/diag.c $util"
        ;;
    xml | awserror) echo "$aws" ;;
    planfile) echo "$root/src/plan/saved.c $util" ;;
    esac
}
libs() {
    case $1 in
    yaml | expr) echo "-lyaml" ;;
    xml | awserror) echo "-lexpat -lcurl" ;;
    esac
}

case $target in
yaml | expr | xml | awserror | planfile) targets=$target ;;
all) targets="yaml expr xml awserror planfile" ;;
*)
    echo "usage: $0 [yaml|expr|xml|awserror|planfile|all] [SECONDS]" >&2
    exit 2
    ;;
esac

mkdir -p "$out/artifacts"
case " $targets " in
*" xml "* | *" awserror "*)
    # Renamed into place, so that two runs at once never compile a half-written file.
    cmake -DOUT="$models.$$" -DSYMBOL=plumb_embedded_aws_models -DBASE="$root/src/aws/models" \
        -DPATTERN='*.json' -P "$root/cmake/embed.cmake"
    mv -f "$models.$$" "$models"
    ;;
esac
for t in $targets; do
    # shellcheck disable=SC2046,SC2086 # word splitting of the flag and source lists is wanted
    $cc -std=gnu11 $flags -D_GNU_SOURCE -DPLUMB_VERSION='"fuzz"' -I"$root/src" \
        -o "$out/fuzz_$t" "$root/tests/fuzz/fuzz_$t.c" $(sources "$t") \
        $(libs "$t") -ljansson -lcrypto -lm
done

if [ "$seconds" = 0 ]; then
    exit 0
fi
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
