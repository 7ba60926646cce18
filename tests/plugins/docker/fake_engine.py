#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A fake Docker engine on a unix socket, for version negotiation only.

fake_engine.py SOCKET LOG MIN MAX [VERSION]

Answers the unversioned GET /version as Docker does (ApiVersion MAX,
MinAPIVersion MIN), refuses a versioned request outside MIN..MAX with
Docker's 400 and wording, and answers /_ping, an empty container list, a
pull that fails with only "errorDetail" (as API 1.48 and later may), and
404 for anything else. Every request line is appended to LOG. SIGUSR1
switches the range to the one in LOG.next ("MIN MAX VERSION"), as an
engine upgraded in place.
"""
import json, os, re, signal, socket, sys, threading

sock_path, log_path, lo, hi = sys.argv[1:5]
state = {"min": lo, "max": hi, "version": sys.argv[5] if len(sys.argv) > 5 else "29.0.0"}


def num(v):
    a, b = v.split(".")
    return int(a) * 1000 + int(b)


def upgrade(signum, frame):
    with open(log_path + ".next") as f:
        state["min"], state["max"], state["version"] = f.read().split()


signal.signal(signal.SIGUSR1, upgrade)


def answer(c, status, body, ctype="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    c.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
              b"Api-Version: %s\r\n\r\n" % (status, reason.encode(), ctype.encode(),
                                             len(data), state["max"].encode()) + data)


def serve(c):
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                more = c.recv(65536)
                if not more:
                    return
                buf += more
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, target, proto = lines[0].split(" ")[:3]
            length = 0
            for h in lines[1:]:
                k, _, v = h.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            while len(buf) < length:
                buf += c.recv(65536)
            buf = buf[length:]
            with open(log_path, "a") as f:
                f.write("%s %s\n" % (method, target))
            path = target.split("?")[0]
            m = re.match(r"^/v(\d+\.\d+)(/.*)$", path)
            if not m:
                if path == "/version":
                    answer(c, 200, {"Version": state["version"], "ApiVersion": state["max"],
                                    "MinAPIVersion": state["min"], "Os": "linux"})
                elif path == "/_ping":
                    answer(c, 200, b"OK", "text/plain")
                else:
                    answer(c, 404, {"message": "page not found"})
            else:
                respond(c, method, m.group(1), m.group(2))
            if proto == "HTTP/1.0":
                return  # no keep-alive in 1.0: the answer runs to end of file
    except (ConnectionError, OSError):
        pass
    finally:
        c.close()


def respond(c, method, v, rest):
    if num(v) < num(state["min"]):
        answer(c, 400, {"message": "client version %s is too old. Minimum supported API "
                        "version is %s, please upgrade your client to a newer version"
                        % (v, state["min"])})
    elif num(v) > num(state["max"]):
        answer(c, 400, {"message": "client version %s is too new. Maximum supported API "
                        "version is %s" % (v, state["max"])})
    elif rest == "/_ping":
        answer(c, 200, b"OK", "text/plain")
    elif rest == "/version":
        answer(c, 200, {"Version": state["version"], "ApiVersion": state["max"],
                        "MinAPIVersion": state["min"]})
    elif rest == "/containers/json":
        answer(c, 200, [])
    elif rest == "/images/create":
        # A pull that fails the way API 1.48 and later say it: errorDetail only.
        answer(c, 200, b'{"status":"Pulling from library/busybox"}\n'
               b'{"errorDetail":{"message":"fake engine: pull access denied"}}\n')
    else:
        answer(c, 404, {"message": "fake engine: no %s %s" % (method, rest)})


s = socket.socket(socket.AF_UNIX)
s.bind(sock_path)
s.listen(64)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
