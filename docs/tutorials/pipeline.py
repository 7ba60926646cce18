#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""pipeline.py [-d URL] [FILE]: `sort | uniq -c | sort -n` spread over the
servers of a circuit (three stages on up to three servers, in turn), the
bytes moved between the stages by this script through the circuit package.
Prints the result and removes every element it made."""
from __future__ import annotations

import argparse
import shutil
import sys
import threading
import uuid
from typing import IO, List

import circuit


def pump(src: IO[bytes], dst: "circuit._streams.Input", errors: List[BaseException]) -> None:
    """Copies @src into a stage's stdin, then ends it."""
    try:
        shutil.copyfileobj(src, dst)
        dst.close()
    except BaseException as e:  # reported by the main thread
        errors.append(e)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-d", "--dial", help="a server's URL (default: found as the CLI does)")
    ap.add_argument("file", nargs="?", help="the input (default: standard input)")
    a = ap.parse_args()
    stages = [("/usr/bin/sort", []), ("/usr/bin/uniq", ["-c"]), ("/usr/bin/sort", ["-n"])]
    run = uuid.uuid4().hex[:8]
    with circuit.dial(a.dial) as c:
        servers = c.servers()
        procs = []
        try:
            for i, (cmd, args) in enumerate(stages):
                where = servers[i % len(servers)]
                procs.append(c.mkproc(f"{where}/pipeline-{run}/stage{i}", cmd, args))
                print(f"stage {i}: {cmd} {' '.join(args)} on {where}", file=sys.stderr)
            source = open(a.file, "rb") if a.file else sys.stdin.buffer
            errors: List[BaseException] = []
            # Input -> stage 0 -> stage 1 -> stage 2, one thread per hop.
            hops = [threading.Thread(target=pump, args=(source, procs[0].stdin, errors))]
            for up, down in zip(procs, procs[1:]):
                hops.append(threading.Thread(target=pump, args=(up.stdout, down.stdin, errors)))
            for t in hops:
                t.start()
            shutil.copyfileobj(procs[-1].stdout, sys.stdout.buffer)
            sys.stdout.flush()
            for t in hops:
                t.join()
            if errors:
                raise errors[0]
            for p in procs:
                p.wait(check=True)
        finally:
            for p in procs:
                p.close()
                p.scrub()
    return 0


if __name__ == "__main__":
    sys.exit(main())
