#!/usr/bin/env bash
# The end-to-end suite under valgrind's memcheck (docs/testing.md): builds plumb without
# sanitizers, with debug info, into build-memcheck/, then runs each end-to-end test, one at a
# time, with PLUMB set to a wrapper that runs every plumb process under memcheck (one log per
# process), and reads every log at the end.
#
#   tests/memcheck.sh [TEST...]    TEST: crash, test_crash, test_crash.sh or a path; default
#                                  every tests/e2e/test_*.sh
#
# Prints, per test, its outcome and time, and then a summary: the plumb processes checked,
# those killed by their test (SIGKILL, or timeout(1)'s SIGTERM: their heap is mid-run, so they
# are not leak-checked, and a partial log is not an error, though a report it holds from before
# the kill counts), and each process with a memcheck report in plumb's code (an invalid read or
# write or free, a use of uninitialised memory, a definite or indirect leak, a crash) with its
# first report, then each distinct report in full. Reports wholly inside system libraries are
# listed apart. Exits 1 when memcheck found anything in plumb's code; 2 when it found nothing
# but a test failed or timed out; 0 when both are clean. Valgrind makes plumb 20-50 times
# slower: a check known to fail for that alone (TIMING below, each with its reason) is
# reported but does not count, and E2E_READER_TIMEOUT gives test_concurrency's readers 120 s.
#
# Everything lands in build-memcheck/memcheck/: TEST/test.log (the test's output), TEST/vg.*.log
# (one per plumb process), plumb (the wrapper). tests/memcheck.supp silences reports wholly
# inside system libraries, each explained there. MEMCHECK_TIMEOUT (seconds, default 3600) ends
# a test that runs longer; MEMCHECK_BUILD=0 uses build-memcheck/plumb as it is. The whole suite
# takes 35-50 minutes on two shared cores (no test over 9 minutes).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
build=$root/build-memcheck
out=$build/memcheck
timeout_s=${MEMCHECK_TIMEOUT:-3600}

if [ "${MEMCHECK_BUILD:-1}" != 0 ]; then
  # Debug (-O0): exact lines in reports, and no optimisation that memcheck could take for a
  # use of uninitialised memory. No unit tests: they are not what runs here.
  ./scripts/build.sh "$build" -DCMAKE_BUILD_TYPE=Debug -DPLUMB_SANITIZE=OFF -DPLUMB_TESTS=OFF || exit 1
fi
command -v valgrind >/dev/null || {
  echo "memcheck: valgrind is not installed (scripts/setup.sh installs it)" >&2
  exit 1
}

tests=()
if [ $# = 0 ]; then
  tests=(tests/e2e/test_*.sh)
else
  for t in "$@"; do
    t=${t%.sh}
    t=${t##*/}
    t=tests/e2e/test_${t#test_}.sh
    [ -f "$t" ] || {
      echo "memcheck: no test $t" >&2
      exit 1
    }
    tests+=("$t")
  done
fi

rm -rf "$out"
mkdir -p "$out"
# The wrapper keeps plumb's pid (exec), which tests compare with the lock holder they are told
# of, and which they kill. Each log is named by pid and start time: a test starts thousands of
# processes (the aws CLI for every check) and pids wrap at 32768. Threads and libcurl need
# nothing special; plumb does not fork, and were it to, the child would stay silent rather
# than repeat its parent's heap. --fullpath-after shows plumb's frames as src/...:LINE, which
# is how the summary tells them from system libraries' (absolute paths, or "in LIB.so").
cat >"$out/plumb" <<EOF
#!/usr/bin/env bash
# plumb under memcheck, written by tests/memcheck.sh: logs to \$MEMCHECK_LOG_DIR (or $out).
exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \\
  --errors-for-leak-kinds=definite,indirect --track-origins=yes --error-exitcode=99 \\
  --child-silent-after-fork=yes --num-callers=40 --fullpath-after="$root/" \\
  --suppressions="$root/tests/memcheck.supp" \\
  --log-file="\${MEMCHECK_LOG_DIR:-$out}/vg.%p.\${EPOCHREALTIME/./}.log" "$build/plumb" "\$@"
EOF
chmod +x "$out/plumb"

# Python tools from the interpreter's own directory, as scripts/test.sh does (no pyenv shims).
PATH="$(python3 -c 'import os, sys; print(os.path.dirname(os.path.realpath(sys.executable)))'):$PATH"
export PATH

# the readers test_concurrency runs during an apply are given 10 s, too little under valgrind
export E2E_READER_TIMEOUT=${E2E_READER_TIMEOUT:-120}

start=$(date +%s)
: >"$out/results"
for t in "${tests[@]}"; do
  name=$(basename "$t" .sh)
  mkdir -p "$out/$name"
  t0=$(date +%s)
  MEMCHECK_LOG_DIR="$out/$name" PLUMB="$out/plumb" PLUMB_SOURCE_DIR="$root" \
    timeout -k 30 "$timeout_s" bash "$t" >"$out/$name/test.log" 2>&1
  rc=$?
  secs=$(($(date +%s) - t0))
  verdict=passed
  [ "$rc" = 0 ] || verdict=failed
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && verdict="timed out"
  echo "$name	$verdict	$secs" >>"$out/results"
  printf '%-26s %-9s %4d:%02d  %s\n' "$name" "$verdict" $((secs / 60)) $((secs % 60)) \
    "$(grep -E "^$name: [0-9]+ passed" "$out/$name/test.log" | tail -1)"
done
echo "== total wall time: $(($(date +%s) - start)) s"

python3 - "$out" "$root" <<'PY'
"""Reads every TEST/vg.*.log in OUT: one plumb process each."""
import glob
import os
import re
import sys

out, root = sys.argv[1], sys.argv[2]
# A frame of plumb's code: --fullpath-after makes its files relative to the root.
OURS = re.compile(r"\((src|build-memcheck)/[^)]*:\d+\)")
FRAME = re.compile(r"^\s+(at|by) 0x[0-9A-F]+: ")
# Signals that end a process by accident; others (SIGTERM from timeout(1), SIGPIPE) are a test's
# doing, and leave the heap mid-run: a leak report then means nothing.
SIGNAL = re.compile(r"Process terminating with default action of signal \d+ \((\w+)\)")
CRASHES = ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT")
LEAK = re.compile(r"bytes in [0-9,]+ blocks are (definitely|indirectly) lost")
# Checks that depend on how fast plumb is, and fail under valgrind for that alone (each says
# why); their failure is reported but does not make the run fail.
TIMING = {
    # four readers under valgrind take longer than the 30-group apply they must overlap
    "test_concurrency": {"the apply was still running while they read"},
}


def blocks(lines):
    """Splits a log into its reports: valgrind ends each with an empty '==PID== ' line."""
    cur = []
    for line in lines:
        m = re.match(r"^==\d+== ?(.*)$", line)
        if not m:
            continue
        text = m.group(1)
        if text.strip() == "":
            if cur:
                yield cur
            cur = []
        elif not re.match(r"^Thread \d+( \w+)?:$", text):
            cur.append(text)
    if cur:
        yield cur


def reports(lines):
    """Memcheck's error reports in a log: every block with a stack, but the banner and the
    summaries, warnings, and a termination by a signal a test sent."""
    for b in blocks(lines):
        head = b[0]
        if not any(FRAME.match(l) for l in b):
            continue
        if head.startswith(("Warning:", "HEAP SUMMARY", "LEAK SUMMARY")):
            continue
        m = SIGNAL.search(head)
        if m and m.group(1) not in CRASHES:
            continue
        yield b


results = {}
for line in open(os.path.join(out, "results")):
    name, verdict, secs = line.rstrip("\n").split("\t")
    results[name] = (verdict, int(secs))

procs = killed = 0
ours, libs, unparsed = [], [], []
per_test = {name: [0, 0, 0] for name in results}  # processes, killed, with a finding
for name in results:
    # in the order they started (vg.PID.MICROSECONDS.log)
    for path in sorted(glob.glob(os.path.join(out, name, "vg.*.log")),
                       key=lambda p: int(p.rsplit(".", 2)[1])):
        lines = open(path, errors="replace").read().splitlines()
        procs += 1
        per_test[name][0] += 1
        summary = [l for l in lines if "ERROR SUMMARY:" in l]
        sig = next((m.group(1) for m in map(SIGNAL.search, lines) if m), None)
        found = list(reports(lines))
        # SIGKILLed (the log stops), or ended by a signal a test sent: not leak-checked
        if not summary or (sig and sig not in CRASHES):
            killed += 1
            per_test[name][1] += 1
            found = [r for r in found if not LEAK.search(r[0])]
        cmd = next((l.split("Command: ", 1)[1] for l in lines if "== Command: " in l), "?")
        cmd = cmd.replace(os.path.join(root, "build-memcheck/plumb"), "plumb")
        mine = [r for r in found if any(OURS.search(l) for l in r)]
        rel = os.path.relpath(path, root)
        if mine:
            ours.append((name, rel, cmd, mine))
            per_test[name][2] += 1
        elif found:
            libs.append((name, rel, cmd, found))
        elif summary and not sig and not re.search(r"ERROR SUMMARY: 0 errors", summary[0]):
            unparsed.append((name, rel, summary[0]))

failed = [n for n, (v, _) in results.items() if v != "passed"]
not_ok = {}
for name in failed:
    log = os.path.join(out, name, "test.log")
    not_ok[name] = [l[len("not ok - "):] for l in open(log, errors="replace").read().splitlines()
                    if l.startswith("not ok - ")]
# a test whose only failures are timing checks, with nothing from memcheck
timing_only = [n for n in failed if results[n][0] == "failed" and not per_test[n][2] and not_ok[n]
               and set(not_ok[n]) <= TIMING.get(n, set())]
print("\n== memcheck summary")
print("tests: %d run, %d passed, %d failed" % (len(results), len(results) - len(failed), len(failed)))
for name, (verdict, secs) in results.items():
    p, k, f = per_test[name]
    print("  %-26s %-9s %4d:%02d  %4d plumb processes, %3d killed, %d with findings"
          % (name, verdict, secs // 60, secs % 60, p, k, f))
print("plumb processes checked: %d (%d killed by their test: no leak check, not an error)"
      % (procs, killed))
print("processes with memcheck findings in plumb's code: %d" % len(ours))


def kind(report):
    """What a report is, without its sizes: 'definitely lost', 'Invalid read of size 8'."""
    return re.sub(r"^[0-9,]+ (\([^)]*\) )?bytes in [0-9,]+ blocks are (.*) in loss record.*",
                  r"\2", report[0])


def where(report):
    """Its first frame in plumb's code (or its first frame): where to look."""
    frames = [l.strip() for l in report if FRAME.match(l)]
    mine = [f for f in frames if OURS.search(f)]
    f = (mine or frames or ["?"])[0]
    return re.sub(r"^(at|by) 0x[0-9A-F]+: ", "", f)


def show(items, limit=40):
    """One line per process (its first report), then each distinct report once, in full."""
    distinct = {}
    for name, rel, cmd, found in items:
        print("  %s: %s (%d report(s))\n    %s\n    first: %s at %s"
              % (name, rel, len(found), cmd, kind(found[0]), where(found[0])))
        for r in found:
            distinct.setdefault((kind(r), where(r)), []).append((rel, r))
    print("  distinct reports: %d" % len(distinct))
    for (k, w), seen in distinct.items():
        print("\n  %s at %s: in %d process(es), e.g. %s" % (k, w, len(seen), seen[0][0]))
        for line in seen[0][1][:limit]:
            print("    | " + line)


if ours:
    show(ours)
if libs:
    print("\nreports only in system libraries, not plumb's code: %d process(es) (if benign, "
          "suppress in tests/memcheck.supp, saying why)" % len(libs))
    show(libs)
if unparsed:
    print("\nprocesses whose ERROR SUMMARY counts errors this script did not read: %d" % len(unparsed))
    for name, rel, s in unparsed:
        print("  %s: %s: %s" % (name, rel, s.strip()))
for name in failed:
    if per_test[name][2]:
        note = "with memcheck findings in plumb (which then exits 99)"
    elif name in timing_only:
        note = "only in checks known to depend on timing (valgrind's slowness): not counted"
    else:
        note = "without a memcheck finding"
    log = os.path.relpath(os.path.join(out, name, "test.log"), root)
    print("\ntest %s %s, %s; %s" % (name, results[name][0], note, log))
    for l in not_ok[name][:10] or ["(no failed check: see its log)"]:
        print("  not ok - " + l)

if ours or unparsed:
    sys.exit(1)
sys.exit(2 if set(failed) - set(timing_only) else 0)
PY
