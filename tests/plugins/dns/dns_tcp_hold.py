#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# dns_tcp_hold.py PORT N READY STOP: opens N idle TCP connections to
# 127.0.0.1:PORT and holds them without sending anything. Once every
# connection is up (or after a bounded wait), it writes "up U" to READY;
# it then holds them until the file STOP exists (at most 120 s), and
# prints how many are still open and how many the server closed. Every
# loop is bounded in count and time.
import os
import select
import socket
import sys
import time

port, n, ready, stop = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
CONNECT_WAIT = 10.0
HOLD_MAX = 120.0

socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    socks.append(s)

# A nonblocking connect is done when the socket becomes writable; one the
# server never accepts (its SYN dropped) stays pending: that is the bug.
pending = set(socks)
up = 0
deadline = time.monotonic() + CONNECT_WAIT
while pending and time.monotonic() < deadline:
    chunk = list(pending)[:500]
    _, w, _ = select.select([], chunk, [], 0.1)
    for s in w:
        pending.discard(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            up += 1
with open(ready + ".tmp", "w") as f:
    f.write("up %d\n" % up)
os.rename(ready + ".tmp", ready)

deadline = time.monotonic() + HOLD_MAX
while not os.path.exists(stop) and time.monotonic() < deadline:
    time.sleep(0.05)

# A socket the server closed reads as EOF (or reset).
closed = 0
for s in socks:
    if s in pending:
        continue
    try:
        if s.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print("up %d closed %d" % (up, closed))
