#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""python_bench.py BUILD_DIR [--record] [--spawn N] [--chan N] [--rounds R]

The Python binding against libcircuit from C, in the same run, on one
circuitd started here on 127.0.0.1 (stopped by PID at the end):
  - remote spawn: mkproc /bin/true + wait (scrub after each, untimed),
    bar: Python at most 1.3x C's time;
  - channel: 64 B send + recv on a channel of capacity 1,
    bar: Python at least 0.7x C's rate.
Each side runs in R rounds, alternating which goes first, so load from
other programs falls on both alike. Prints a markdown table; --record puts
it into docs/BENCHMARKS.md (tests/bench/record.sh). Never asserts timings.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, List

SPAWN_BAR = 1.3
CHAN_BAR = 0.7


def start_server(build: str, tmp: str) -> "tuple[subprocess.Popen, str]":
    url_file = os.path.join(tmp, "url")
    with open(url_file, "w") as out, open(os.path.join(tmp, "server.log"), "w") as err:
        proc = subprocess.Popen([os.path.join(build, "bin", "circuitd"), "-a", "127.0.0.1:0"],
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    for _ in range(400):
        with open(url_file) as f:
            url = f.readline().strip()
        if url.startswith("circuit://"):
            return proc, url
        if proc.poll() is not None:
            break
        time.sleep(0.025)
    proc.kill()
    raise SystemExit("python_bench: circuitd printed no URL")


def run_c(build: str, url: str, mode: str, count: int, path: str) -> List[float]:
    exe = os.path.join(build, "tests", "bench", "python_bench")
    out = subprocess.run([exe, url, mode, str(count), path], check=True,
                         capture_output=True, text=True).stdout
    return [float(line) for line in out.split()]


def run_py(loop: Callable[[int], float], count: int) -> List[float]:
    return [loop(i) for i in range(count)]


def row(name: str, v: List[float], scale: float = 1e3) -> str:
    v = sorted(v)
    p90 = v[min(len(v) - 1, int(0.9 * len(v)))]
    return (f"| {name} | {statistics.median(v) * scale:.3f} | {p90 * scale:.3f} | "
            f"{statistics.fmean(v) * scale:.3f} | {len(v)} |")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--spawn", type=int, default=500)
    ap.add_argument("--chan", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=20)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    sys.path.insert(0, os.path.join(build, "python"))
    import circuit

    tmp = tempfile.mkdtemp(prefix="python-bench.")
    proc, url = start_server(build, tmp)
    try:
        c = circuit.dial(url)
        anchor = c.anchor
        ch = c.mkchan(anchor + "/bench-chan", 1)
        msg = b"0123456789abcdef" * 4
        counter = [0]

        def py_spawn(i: int) -> float:
            counter[0] += 1
            path = f"{anchor}/py/{counter[0]}"
            t0 = time.perf_counter()
            p = c.mkproc(path, "/bin/true")
            p.wait(check=True)
            t = time.perf_counter() - t0
            p.scrub()
            return t

        def py_chan(i: int) -> float:
            t0 = time.perf_counter()
            ch.send(msg)
            got = ch.recv()
            t = time.perf_counter() - t0
            assert len(got) == 64
            return t

        # Warm-up, both ways.
        run_c(build, url, "spawn", 20, anchor + "/warm")
        run_py(py_spawn, 20)
        run_c(build, url, "chan", 200, ch.path)
        run_py(py_chan, 200)

        cs, ps, cc, pc = [], [], [], []
        n_s, n_c = a.spawn // a.rounds, a.chan // a.rounds
        t_start = time.monotonic()
        for r in range(a.rounds):
            order = [0, 1] if r % 2 == 0 else [1, 0]
            for side in order:
                if side == 0:
                    cs += run_c(build, url, "spawn", n_s, f"{anchor}/c{r}")
                    cc += run_c(build, url, "chan", n_c, ch.path)
                else:
                    ps += run_py(py_spawn, n_s)
                    pc += run_py(py_chan, n_c)
        elapsed = time.monotonic() - t_start
        c.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    spawn_ratio = statistics.median(ps) / statistics.median(cs)
    spawn_mean_ratio = statistics.fmean(ps) / statistics.fmean(cs)
    chan_ratio = statistics.median(cc) / statistics.median(pc)  # Python's rate / C's
    chan_mean_ratio = statistics.fmean(cc) / statistics.fmean(pc)
    md = "\n".join([
        f"Python {platform.python_version()} through the circuit package against C through "
        f"libcircuit, in the same run, one circuitd on 127.0.0.1, {a.rounds} rounds "
        f"alternating which side goes first; {elapsed:.1f} s in all. Times in ms per "
        "operation (spawn: mkproc /bin/true + wait, scrubbed after, untimed; chan: one 64 B "
        "send + recv on a channel of capacity 1).",
        "",
        "| case | median | p90 | mean | n |",
        "|---|---:|---:|---:|---:|",
        row("C: mkproc + wait", cs),
        row("Python: mkproc + wait", ps),
        row("C: chan send + recv 64 B", cc),
        row("Python: chan send + recv 64 B", pc),
        "",
        f"Spawn, Python time / C time: median **{spawn_ratio:.2f}** (mean {spawn_mean_ratio:.2f}; "
        f"bar <= {SPAWN_BAR}: {'met' if spawn_ratio <= SPAWN_BAR else 'NOT met'}).",
        f"Channel, Python rate / C rate: median **{chan_ratio:.2f}** (mean {chan_mean_ratio:.2f}; "
        f"bar >= {CHAN_BAR}: {'met' if chan_ratio >= CHAN_BAR else 'NOT met'}).",
        "",
    ])
    print(md)
    if a.record:
        out = os.path.join(tmp, "python.md")
        with open(out, "w") as f:
            f.write(md)
        src = os.environ.get("CIRCUIT_SOURCE_DIR",
                             os.path.dirname(os.path.dirname(os.path.dirname(
                                 os.path.abspath(__file__)))))
        subprocess.run(["bash", os.path.join(src, "tests", "bench", "record.sh"), "python", out],
                       check=True, env=dict(os.environ, CIRCUIT_SOURCE_DIR=src))
    return 0


if __name__ == "__main__":
    sys.exit(main())
