#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""waitall.py [-d URL] [--first] [SECONDS ...]: starts one `sleep` per
SECONDS (default 3 1 2) on the servers of a circuit, in turn, waits for all
of them (or, with --first, for the first to end), reports each as it ends,
and scrubs them all (a sleep still running is stopped by its scrub)."""
from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
import uuid

import circuit


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-d", "--dial", help="a server's URL (default: found as the CLI does)")
    ap.add_argument("--first", action="store_true", help="return when the first one ends")
    ap.add_argument("seconds", nargs="*", type=float, default=[3, 1, 2])
    a = ap.parse_args()
    run = uuid.uuid4().hex[:8]
    with circuit.dial(a.dial) as c:
        servers = c.servers()
        procs = []
        try:
            for i, s in enumerate(a.seconds):
                path = f"{servers[i % len(servers)]}/waitall-{run}/sleep{i}"
                procs.append(c.mkproc(path, "/bin/sleep", [f"{s:g}"]))
            start = time.monotonic()
            ended: "queue.Queue[tuple]" = queue.Queue()

            # One waiting thread per process: the Client is shared, each wait
            # has a connection of its own while it blocks.
            def waiter(p: circuit.Proc) -> None:
                try:
                    ended.put((p, p.wait(), None))
                except circuit.Error as e:
                    ended.put((p, None, e))

            for p in procs:
                threading.Thread(target=waiter, args=(p,), daemon=True).start()
            failed = 0
            for _ in range(1 if a.first else len(procs)):
                p, status, error = ended.get()
                took = time.monotonic() - start
                if error is not None:
                    failed += 1
                    print(f"{p.path} failed: {error}")
                else:
                    failed += status.get("ExitCode") != 0
                    print(f"{p.path} exited {status.get('ExitCode')} after {took:.1f} s")
        finally:
            for p in procs:
                p.scrub()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
