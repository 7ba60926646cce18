#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# chan_median.py OUT RUN1.md RUN2.md ...: merges the tables of several
# chan_bench runs of one session into one: every figure is the median of
# the runs; a ratio is the median of the runs' own ratios (each run measures
# circuit and its Redis row side by side, seconds apart, so the machine's
# speed drifting from run to run cancels out), and the bar line gives that
# and, beside it, the ratio of the two medians.
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
    rk = redis_key(size, queue)
    paired = [
        float(r[(size, queue)][2]) / float(r[rk][2])
        for r in all_rows
        if rk in r and r[rk][2] not in ("-", "n/a") and float(r[rk][2]) > 0
    ]
    ratio = f"{statistics.median(paired):.2f}x" if paired else "n/a"
    fmt = lambda v: "-" if v is None else f"{v:.0f}"
    lines_out.append(f"| {size} | {queue} | {rate:.0f} | {ratio} | {fmt(p50)} | {fmt(p99)} |")
    if queue == "chan CAP 1000" and paired and base and base[0]:
        bar.append(
            f"{statistics.median(paired):.2f}x {size} "
            f"(runs {', '.join(f'{x:.2f}' for x in sorted(paired))}; ratio of the medians "
            f"{rate / base[0]:.2f}x)"
        )
while lines_out and not lines_out[-1].strip():
    lines_out.pop()
text = "\n".join(lines_out) + "\n"
text += (
    f"\nEvery figure is the median of {len(runs)} runs in this session; each run measures "
    "circuit and Redis side by side, and a ratio is the median of the runs' own ratios.\n"
)
if bar:
    text += "\nBar (chan CAP 1000 at least 1.0x Redis, one call at a time): " + ", ".join(bar) + ".\n"
open(out, "w").write(text)
print(text)
