#!/usr/bin/env python3
"""Removes the top-level `checks:` block from a plumb.yaml, in place: usage strip_checks.py FILE.

The examples' post-apply checks GET the load balancer's or App Runner's DNS name, which an
emulator cannot serve; a failing check would roll the whole apply back. The demo, the
examples' end-to-end test and the apply benchmark run their copies without them."""
import re
import sys

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    text = f.read()
with open(path, "w", encoding="utf-8") as f:
    f.write(re.sub(r"\nchecks:\n(?:  .*\n|    .*\n)+", "\n", text))
