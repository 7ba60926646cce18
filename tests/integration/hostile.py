# SPDX-License-Identifier: Apache-2.0
"""Attacks on a running circuitd over the wire (issue 14), one per
subcommand, each asserting what the server must do: close or answer the
one connection that carries it, keep its RSS bounded, keep serving a
bystander within a second, never exit. Run by hostile_input.sh, which
starts and stops the servers. Prints one 'figure:' line per attack."""

import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["CIRCUIT_SOURCE_DIR"], "tests", "tools"))
import circuit_wire as w  # noqa: E402

HOST = "127.0.0.1"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Bystander:
    """Measures a second client's round trips while an attack runs."""

    def __init__(self, port, sid):
        self.port, self.sid = port, sid
        self.worst = 0.0
        self.errors = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                self.worst = max(self.worst, w.round_trip(HOST, self.port, self.sid, timeout=5))
            except Exception as e:  # noqa: BLE001
                self.errors.append(repr(e))
            self.stop.wait(0.05)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.t.join(10)

    def check(self, what):
        if self.errors:
            fail("%s: the bystander failed: %s" % (what, self.errors[0]))
        if self.worst >= 1.0:
            fail("%s: the bystander waited %.2fs for one round trip" % (what, self.worst))


def expect_closed(conn, what, timeout=5.0):
    """The server must close (only) this connection."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            conn.read_frame(timeout=deadline - time.monotonic())
    except (w.Closed, ConnectionResetError):
        return
    except socket.timeout:
        pass
    fail("%s: the server kept the connection open" % what)


def attack_deep_json(port, sid, pid):
    before = w.rss_kib(pid)
    with Bystander(port, sid) as b:
        for where in ("open", "reset", "hello"):
            depth = 75000 if where != "hello" else 2000  # HELLO is capped at 4 KiB
            doc = b"[" * depth
            c = w.Conn(HOST, port, hello=(where != "hello"))
            if where == "open":
                c.send_frame(w.OPEN, 1, doc)
            elif where == "reset":
                s = c.open("peek", "/" + sid)
                c.send_frame(w.RESET, s, b'{"error":' + doc)
                # A RESET ends the stream; the connection lives or closes, but
                # the server must not die.
            else:
                c.send_frame(w.HELLO, 0, doc)
            if where != "reset":
                expect_closed(c, "deep JSON in %s" % where.upper())
            c.close()
            if not w.alive(pid):
                fail("deep JSON in %s killed the server" % where.upper())
        # A wide (not deep) request is fine: it gets an answer.
        c = w.Conn(HOST, port)
        reply, _ = c.call("peek", "/" + sid, ["a"] * 50000)
        if reply is None:
            fail("a wide request got no reply")
        c.close()
    b.check("deep JSON")
    if not w.alive(pid):
        fail("the server died")
    print("figure: deep-json rss_kib %d peak %d bystander_worst_ms %.1f"
          % (before, w.rss_kib(pid), b.worst * 1000))


def attack_credit(port, sid, pid, job, cap_kib):
    """Inflated CREDIT on a stdout stream of `cat /dev/zero`."""
    before = w.rss_kib(pid)
    cpu0 = w.cpu_seconds(pid)
    with Bystander(port, sid) as b:
        c = w.Conn(HOST, port)
        s = c.open("stdout", job, window=65536)
        for _ in range(4):
            try:
                c.credit(s, 0xFFFFFFFF)
            except OSError:
                break  # closed at the first: what we want
        # Never read: the server must either refuse the credit (close) or hold
        # no more than its caps.
        deadline = time.monotonic() + 4
        peak = before
        while time.monotonic() < deadline:
            peak = max(peak, w.rss_kib(pid))
            time.sleep(0.1)
        bound = before + 4 * cap_kib
        print("figure: credit rss_kib %d->peak %d bound %d cpu_s %.2f bystander_worst_ms %.1f"
              % (before, peak, bound, w.cpu_seconds(pid) - cpu0, b.worst * 1000))
        expect_closed(c, "credit beyond what was sent", timeout=1)
        c.close()
    b.check("inflated credit")
    if not w.alive(pid):
        fail("the server died")
    if peak > bound:
        fail("inflated credit: RSS grew from %d KiB to %d KiB (bound %d)" % (before, peak, bound))


def attack_unread_replies(port, sid, pid, cap_kib, n=600):
    """Many `ls -r` requests whose replies the client never reads."""
    before = w.rss_kib(pid)
    cpu0 = w.cpu_seconds(pid)
    with Bystander(port, sid) as b:
        c = w.Conn(HOST, port)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        for _ in range(n):
            try:
                c.open("ls", "/" + sid, recursive=True)
            except OSError:
                break  # the server stopped reading us: that is the point
        deadline = time.monotonic() + 4
        peak = before
        while time.monotonic() < deadline:
            peak = max(peak, w.rss_kib(pid))
            time.sleep(0.1)
        c.close()
    bound = before + 4 * cap_kib
    print("figure: unread-replies rss_kib %d->peak %d bound %d cpu_s %.2f bystander_worst_ms %.1f"
          % (before, peak, bound, w.cpu_seconds(pid) - cpu0, b.worst * 1000))
    b.check("unread replies")
    if not w.alive(pid):
        fail("the server died")
    if peak > bound:
        fail("unread replies: RSS grew from %d KiB to %d KiB (bound %d)" % (before, peak, bound))


def make_anchors(port, sid, n, width):
    c = w.Conn(HOST, port)
    pad = "a" * width
    for i in range(n):
        reply, _ = c.call("mk", "/%s/%s%06d" % (sid, pad, i), ["1"], kind="chan", body=b"")
        if not reply or not reply.get("ok"):
            fail("mkchan %d: %r" % (i, reply))
    c.close()


def attack_fd_exhaust(port, sid, pid, log, n=120):
    """More connections than the server has descriptors (it runs with a
    small RLIMIT_NOFILE): it must not spin or flood its log, and must let a
    new client in by shedding the idlest."""
    def log_lines():
        with open(log, "rb") as f:
            return sum(1 for _ in f)

    conns = []
    for _ in range(n):
        try:
            conns.append(w.Conn(HOST, port, hello=True, timeout=2))
        except (OSError, w.Closed, RuntimeError):
            pass  # refused or shed: fine
    lines0, cpu0 = log_lines(), w.cpu_seconds(pid)
    time.sleep(2)
    lines, cpu = log_lines() - lines0, w.cpu_seconds(pid) - cpu0
    print("figure: fd-exhaust conns_held %d cpu_s_in_2s %.2f log_lines_in_2s %d"
          % (len(conns), cpu, lines))
    if not w.alive(pid):
        fail("the server died")
    if cpu > 0.5:
        fail("out of descriptors, the server spun: %.2fs of CPU in 2s" % cpu)
    if lines > 10:
        fail("out of descriptors, the server logged %d lines in 2s" % lines)
    rtt = w.round_trip(HOST, port, sid, timeout=5)
    if rtt >= 1.0:
        fail("a new client waited %.2fs" % rtt)
    for c in conns:
        c.close()
    time.sleep(0.2)
    rtt = w.round_trip(HOST, port, sid, timeout=5)
    print("figure: fd-exhaust new_client_rtt_ms %.1f" % (rtt * 1000))


def idle(port, sid, pid, seconds):
    """A verified connection with no stream is closed after the idle
    timeout; one with a stream open stays."""
    quiet = w.Conn(HOST, port)
    busy = w.Conn(HOST, port)
    busy.open("recv", "/%s/idleq" % sid)
    time.sleep(seconds + 2)
    try:
        quiet.send_frame(w.OPEN, 1, b'{"op":"ls","path":"/%s","args":[]}' % sid.encode())
        quiet.read_frame(timeout=2)
        fail("the idle connection was not closed")
    except (w.Closed, ConnectionResetError, BrokenPipeError):
        pass
    # The busy one still works.
    reply, _ = busy.call("ls", "/" + sid)
    if not reply or not reply.get("ok"):
        fail("the connection with a stream open was closed: %r" % (reply,))
    quiet.close()
    busy.close()


def main():
    cmd, port, sid, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    if cmd == "deep-json":
        attack_deep_json(port, sid, pid)
    elif cmd == "credit":
        attack_credit(port, sid, pid, sys.argv[5], int(sys.argv[6]))
    elif cmd == "anchors":
        make_anchors(port, sid, int(sys.argv[5]), int(sys.argv[6]))
    elif cmd == "unread-replies":
        attack_unread_replies(port, sid, pid, int(sys.argv[5]))
    elif cmd == "fd-exhaust":
        attack_fd_exhaust(port, sid, pid, sys.argv[5])
    elif cmd == "idle":
        idle(port, sid, pid, float(sys.argv[5]))
    else:
        fail("unknown attack " + cmd)


if __name__ == "__main__":
    main()
