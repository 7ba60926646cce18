#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_tcp: the TCP side of a dns element: 2-byte framing with a query split
# across writes, many connections served at once (well past the old bound
# of 64, which made the rest wait), and the idle timeout. Idle clients and
# the cap: dns_tcp_idle.sh.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0
c set "$P" "a.example. 60 IN A 192.0.2.1"

python3 - "$DNS_PORT" <<'PY' || fail "TCP behaviour"
import select, socket, struct, sys, time

port = int(sys.argv[1])
CONNS = 200  # more than the old cap of 64, under DNS_TCP_MAX_CONNS (1024)

def query(qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + b"\x01a\x07example\x00\x00\x01\x00\x01"
    return struct.pack(">H", len(q)) + q

def read_answer(s, timeout):
    s.settimeout(timeout)
    try:
        head = s.recv(2, socket.MSG_WAITALL)
        if len(head) < 2:
            return None
        return s.recv(struct.unpack(">H", head)[0], socket.MSG_WAITALL)
    except socket.timeout:
        return None

# A query written one byte at a time is still one query.
s = socket.create_connection(("127.0.0.1", port))
for b in query(7):
    s.send(bytes([b]))
    time.sleep(0.002)
r = read_answer(s, 3)
assert r and r[:2] == b"\x00\x07" and r[7] == 1, "split query not answered"
s.close()
print("ok - split query")

# 200 connections open at once, a query on each: every one is answered
# while all are open (none waits for another to close).
conns = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(CONNS)]
for i, c in enumerate(conns):
    c.send(query(i))
answered = []
deadline = time.time() + 10  # a hang guard, not a measure
pending = set(conns)
while pending and time.time() < deadline:
    ready, _, _ = select.select(list(pending), [], [], 0.2)
    for c in ready:
        if read_answer(c, 1):
            answered.append(c)
        pending.discard(c)
assert len(answered) == CONNS, "answered %d of %d open connections" % (len(answered), CONNS)
for c in conns:
    c.close()
print("ok - %d connections served at once" % CONNS)

# An idle connection is closed by the server (10 s).
s = socket.create_connection(("127.0.0.1", port))
s.send(query(9))
assert read_answer(s, 3)
t0 = time.time()
s.settimeout(20)
assert s.recv(1) == b"", "idle connection not closed"
print("ok - idle connection closed after %.1f s" % (time.time() - t0))
PY
expect_eq "still serving" "$(q +short a.example A)" "192.0.2.1"
server_alive
