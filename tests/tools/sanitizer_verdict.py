#!/usr/bin/env python3
"""Reads a unit-test log and says whether a sanitizer reported a problem in our code:
sanitizer_verdict.py LOG. Exit 1 when one did; 3 when the only report is criterion's own
runner leak (which also makes the runner exit non-zero: LeakSanitizer's exit code); 0 when
there is none.

LeakSanitizer reports when a process exits, after criterion has given its verdict, so the
log is where leaks show. One report is not ours: criterion's runner leaks a few of its own
allocations at exit, a report whose every frame (past the allocator) is in libcriterion.
Such a report is named and ignored; every other sanitizer report (a leak with any frame of
plumb, jansson, libcurl..., an ASan error, UBSan's "runtime error:") fails the run."""
import re
import sys


def main():
    lines = open(sys.argv[1], errors="replace").read().split("\n")
    ours = ignored = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if "runtime error:" in line:
            ours += 1
        m = re.match(r"^==\d+==ERROR: (\w+Sanitizer)", line)
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("SUMMARY:"):
            j += 1
        block = lines[i:j]
        frames = [l for l in block if re.match(r"^\s+#\d+ ", l) and not re.match(r"^\s+#0 ", l)]
        if m.group(1) == "LeakSanitizer" and frames and all("libcriterion.so" in f for f in frames):
            ignored += 1
        else:
            ours += 1
        i = j + 1
    if ignored:
        print("sanitizer: %d report(s) of criterion's own runner leaks ignored" % ignored)
    if ours:
        print("sanitizer: %d report(s) in our code (see the log above)" % ours)
        return 1
    return 3 if ignored else 0


if __name__ == "__main__":
    sys.exit(main())
