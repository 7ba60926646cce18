# SPDX-License-Identifier: Apache-2.0
"""Stream limits per client, not per link (issue 15, finding 2). Dialed
into the relay A: an unrelated relayed stdout keeps flowing while clients
open 4,100 relayed recvs on a channel of B (more than one server-to-server
connection took before), and one client that opens more than its quota has
only the streams over it refused, with a clear error, its connection and
everything else untouched."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ["CIRCUIT_SOURCE_DIR"], "tests", "tools"))
import circuit_wire as w  # noqa: E402

port, b = int(sys.argv[1]), sys.argv[2]
quota = int(sys.argv[3])


def fail(m):
    print("FAIL: " + m, file=sys.stderr)
    sys.exit(1)


def read_ticks(c, sid, n, timeout=10):
    got, deadline = 0, time.monotonic() + timeout
    while got < n:
        t, s, p = c.read_frame(timeout=max(0.1, deadline - time.monotonic()))
        if time.monotonic() > deadline:
            fail("the unrelated relayed stdout stalled")
        if s != sid:
            continue
        if t == w.DATA:
            got += p.count(b"tick")
            c.credit(sid, len(p))
        elif t in (w.RESET, w.EOF):
            fail("the unrelated relayed stdout ended: %r" % p)
    return got


watcher = w.Conn("127.0.0.1", port)
ws = watcher.open("stdout", "/%s/talker" % b, window=65536)
read_ticks(watcher, ws, 3)

# 4,100 relayed recvs from 5 clients, each under its quota.
clients = []
per = 820
for _ in range(5):
    c = w.Conn("127.0.0.1", port)
    for _ in range(per):
        c.open("recv", "/%s/q" % b)
    clients.append(c)
time.sleep(1)
read_ticks(watcher, ws, 3)
for c in clients:
    # Nothing came back on them: every recv is still waiting (a REPLY only
    # comes with a message), none was reset.
    c.sock.settimeout(0.2)
    try:
        t, s, p = c.read_frame(timeout=0.2)
        fail("a waiting relayed recv got frame type %d: %r" % (t, p))
    except (TimeoutError, OSError) as e:
        if isinstance(e, ConnectionError):
            fail("a client's connection was closed: %r" % e)
print("figure: 4100 relayed recvs open through one relay; unrelated stdout still flowing")

# One client over its quota: the streams over it are refused, one by one.
greedy = w.Conn("127.0.0.1", port)
n = quota + 50
for _ in range(n):
    greedy.open("recv", "/%s/q" % b)
refused, deadline = 0, time.monotonic() + 10
while refused < 50 and time.monotonic() < deadline:
    t, s, p = greedy.read_frame(timeout=10)
    if t == w.REPLY:
        import json
        r = json.loads(p)
        if r.get("ok"):
            fail("an over-quota recv was accepted: %r" % r)
        if "streams" not in r.get("error", ""):
            fail("unclear refusal: %r" % r)
        refused += 1
if refused != 50:
    fail("%d over-quota streams refused, wanted 50" % refused)
print("figure: refusal: %s" % r["error"])
# Its connection still works, and so does the unrelated stream.
reply, _ = greedy.call("ls", "/")  # answered by the relay itself
if not reply or not reply.get("ok"):
    fail("the greedy client's connection no longer works: %r" % (reply,))
read_ticks(watcher, ws, 3)
for c in clients + [greedy, watcher]:
    c.close()
