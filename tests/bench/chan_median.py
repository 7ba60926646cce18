#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# chan_median.py OUT RUN1.md RUN2.md ...: merges the tables of several
# chan_bench runs of one session into one: every figure is the median of
# the runs, the ratios are taken again against the median Redis row of the
# same size and pipelining, and the bar line is written again.
import re
import statistics
import sys

out, runs = sys.argv[1], sys.argv[2:]
texts = [open(r).read().splitlines() for r in runs]
row_re = re.compile(r"^\| (.+?) \| (.+?) \| (.+?) \| (.+?) \| (.+?) \| (.+?) \|$")


def rows(lines):
    found = {}
    for line in lines:
        m = row_re.match(line)
        if m and m.group(3) not in ("msg/s", "---:"):
            found[(m.group(1), m.group(2))] = m.groups()
    return found


all_rows = [rows(t) for t in texts]
keys = [k for k in all_rows[0] if all(k in r for r in all_rows)]


def med(values):
    nums = [float(v) for v in values if v not in ("-", "n/a")]
    return statistics.median(nums) if nums else None


medians = {}
for k in keys:
    medians[k] = [med([r[k][i] for r in all_rows]) for i in (2, 4, 5)]


def redis_key(size, queue):
    m = re.search(r"(\d+) in flight", queue)
    return (size, f"Redis list, {m.group(1)} in flight" if m else "Redis list")


bar = []
lines_out = []
for line in texts[0]:
    m = row_re.match(line)
    if line.startswith("Bar ("):
        continue
    if not m or (m.group(1), m.group(2)) not in medians:
        lines_out.append(line)
        continue
    size, queue = m.group(1), m.group(2)
    rate, p50, p99 = medians[(size, queue)]
    base = medians.get(redis_key(size, queue))
    ratio = f"{rate / base[0]:.2f}x" if base and base[0] else "n/a"
    fmt = lambda v: "-" if v is None else f"{v:.0f}"
    lines_out.append(f"| {size} | {queue} | {rate:.0f} | {ratio} | {fmt(p50)} | {fmt(p99)} |")
    if queue == "chan CAP 1000" and base and base[0]:
        bar.append(f"{rate / base[0]:.2f}x {size}")
while lines_out and not lines_out[-1].strip():
    lines_out.pop()
text = "\n".join(lines_out) + "\n"
text += f"\nEvery figure is the median of {len(runs)} runs in this session (each run measures circuit and Redis side by side).\n"
if bar:
    text += "\nBar (chan CAP 1000 at least 1.0x Redis, one call at a time): " + ", ".join(bar) + ".\n"
open(out, "w").write(text)
print(text)
