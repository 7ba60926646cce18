# SPDX-License-Identifier: Apache-2.0
"""Makes many anchors on one server quickly, for the listing test
(tests/integration/ls_large.sh) and benchmark (tests/bench/ls.sh):

    ls.py PORT SERVER_ID COUNT WIDTH [PREFIX [GROUPS]]

makes COUNT channels /SERVER_ID/PREFIX<WIDTH a's><6 digits> (with GROUPS,
/SERVER_ID/PREFIXg<3 digits>/<WIDTH a's><6 digits>, spread evenly over
GROUPS parent anchors), with many
requests in flight on one connection (each mk carries its empty body in
the OPEN, so nothing else is sent on its stream). Exits non-zero on any
failure; prints "figure: mk COUNT in S s"."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import circuit_wire as w  # noqa: E402

IN_FLIGHT = 512


def main():
    port, sid, count, width = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    prefix = sys.argv[5] if len(sys.argv) > 5 else ""
    groups = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    per_group = max(1, -(-count // groups)) if groups else 0
    pad = "a" * width
    c = w.Conn("127.0.0.1", port, timeout=60)
    t0 = time.monotonic()
    sent = done = 0
    open_ids = {}
    while done < count:
        while sent < count and len(open_ids) < IN_FLIGHT:
            group = "g%03d/" % (sent // per_group) if groups else ""
            path = "/%s/%s%s%s%06d" % (sid, prefix, group, pad, sent)
            open_ids[c.open("mk", path, ["1"], kind="chan", body=b"")] = [path, None]
            sent += 1
        t, s, payload = c.read_frame(timeout=60)
        if s not in open_ids:
            continue
        if t == w.REPLY:
            open_ids[s][1] = payload
        elif t in (w.EOF, w.RESET):
            path, reply = open_ids.pop(s)
            if t == w.RESET or reply is None or b'"ok":true' not in reply:
                sys.exit("mkchan %s failed: %r %r" % (path, reply, payload))
            done += 1
    c.close()
    print("figure: mk %d anchors (names of %d bytes) in %.2f s"
          % (count, width + len(prefix) + 6, time.monotonic() - t0))


if __name__ == "__main__":
    main()
