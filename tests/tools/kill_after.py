#!/usr/bin/env python3
"""Runs a command and SIGKILLs it the moment its stderr has shown the Nth line matching a
pattern (after a line matching --after, if given): a crash landed exactly at an action
boundary, which polling a file from the shell is too slow to hit. The command's stderr is
copied to --log. Exits 0 when it killed the command, 3 when the command ended first.

    kill_after.py [--after REGEX] [--log FILE] REGEX N -- CMD ARGS...
"""
import argparse
import re
import signal
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--after")
    ap.add_argument("--log")
    ap.add_argument("pattern")
    ap.add_argument("n", type=int)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    pat, after = re.compile(a.pattern), re.compile(a.after) if a.after else None
    log = open(a.log, "w") if a.log else None
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    armed, seen = after is None, 0
    for line in p.stderr:
        if log:
            log.write(line)
            log.flush()
        if not armed:
            armed = bool(after.search(line))
            continue
        if pat.search(line):
            seen += 1
            if seen >= a.n:
                p.send_signal(signal.SIGKILL)
                p.wait()
                return 0
    p.wait()
    return 3


if __name__ == "__main__":
    sys.exit(main())
