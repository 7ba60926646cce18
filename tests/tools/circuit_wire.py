# SPDX-License-Identifier: Apache-2.0
"""A small client of the circuit wire protocol (docs/protocol.md), unkeyed,
for tests that must send what the real client never would: hostile frames,
inflated credit, floods of requests. Standard library only."""

import json
import os
import socket
import struct
import time

HELLO, OPEN, REPLY, DATA, CREDIT, EOF, RESET = range(1, 8)
PREAMBLE = b"CIRC\x01\x00\x00\x00"
HEADER = struct.Struct(">IBBHI")


class Closed(Exception):
    """The server closed the connection."""


class Conn:
    def __init__(self, host, port, hello=True, timeout=10.0):
        self.port = port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.next_id = 1
        self.hello = None
        self.sock.sendall(PREAMBLE)
        if hello:
            self.send_frame(HELLO, 0, json.dumps({"version": 1, "role": "client"}).encode())
            t, _, payload = self.read_frame()
            if t != HELLO:
                raise RuntimeError("expected HELLO, got frame type %d" % t)
            self.hello = json.loads(payload)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_frame(self, ftype, stream, payload=b""):
        self.sock.sendall(HEADER.pack(len(payload), ftype, 0, 0, stream) + payload)

    def raw(self, data):
        self.sock.sendall(data)

    def read_frame(self, timeout=None):
        if timeout is not None:
            self.sock.settimeout(timeout)
        while True:
            if len(self.buf) >= HEADER.size:
                n, t, _, _, s = HEADER.unpack_from(self.buf)
                if len(self.buf) >= HEADER.size + n:
                    payload = self.buf[HEADER.size:HEADER.size + n]
                    self.buf = self.buf[HEADER.size + n:]
                    return t, s, payload
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise Closed()
            self.buf += chunk

    def open(self, op, path, args=(), window=1 << 20, body=None, **extra):
        sid = self.next_id
        self.next_id += 2
        req = {"op": op, "path": path, "args": list(args), "window": window}
        req.update(extra)
        payload = json.dumps(req).encode()
        if body is not None:
            payload += b"\0" + body
        self.send_frame(OPEN, sid, payload)
        return sid

    def credit(self, sid, n):
        self.send_frame(CREDIT, sid, struct.pack(">I", n))

    def call(self, op, path, args=(), body=None, timeout=10.0, **extra):
        """One whole call: returns (reply dict, output bytes). Input, if
        any, goes inside the OPEN; output is credited as it is read."""
        sid = self.open(op, path, args, body=body, **extra)
        reply, out = None, b""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("%s %s: no answer in %.1fs" % (op, path, timeout))
            t, s, payload = self.read_frame(timeout=left)
            if s != sid:
                continue
            if t == REPLY:
                reply = json.loads(payload)
            elif t == DATA:
                out += payload
                self.credit(sid, len(payload))
            elif t == EOF:
                if body is None:
                    self.send_frame(EOF, sid)
                return reply, out
            elif t == RESET:
                return reply or (json.loads(payload) if payload else {"ok": False}), out


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def round_trip(host, port, server_id, timeout=5.0):
    """Seconds a fresh client takes to dial and list the server's anchor."""
    t0 = time.monotonic()
    c = Conn(host, port, timeout=timeout)
    try:
        reply, _ = c.call("ls", "/" + server_id, timeout=timeout)
        if not reply or not reply.get("ok"):
            raise RuntimeError("bystander ls failed: %r" % (reply,))
    finally:
        c.close()
    return time.monotonic() - t0
