#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A fake Docker engine on a unix socket, for version negotiation.

fake_engine.py SOCKET LOG MIN MAX [VERSION]

Answers the unversioned GET /version as Docker does (ApiVersion MAX,
MinAPIVersion MIN, Version, Platform.Name "Docker Engine - Community"),
refuses a versioned request outside MIN..MAX with Docker's 400 and wording,
and otherwise plays a container that prints one line and exits 0: an empty
container list (the orphan sweep), create (of image "busybox"; any other
is missing), attach (hijacked: one stdout
frame, then the end of the stream), start, wait, inspect, stop and remove;
a pull fails with only "errorDetail" (as API 1.48 and later may say it);
anything else is a 404 naming it. Every request is appended to LOG as
"METHOD TARGET STATUS".

An engine upgraded in place: LOG.next holds "MIN MAX VERSION [WHEN]". With
WHEN, the range changes just before the first request whose target contains
WHEN is answered; without it, on SIGUSR1. The file is removed once applied.
"""
import json, os, re, signal, socket, struct, sys, threading

sock_path, log_path, lo, hi = sys.argv[1:5]
state = {"min": lo, "max": hi, "version": sys.argv[5] if len(sys.argv) > 5 else "29.0.0"}
lock = threading.Lock()
REASONS = {101: "UPGRADED", 200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request",
           404: "Not Found"}


def num(v):
    a, b = v.split(".")
    return int(a) * 1000 + int(b)


def switch(when):
    """Applies LOG.next if it is due: on a signal (when None) or a matching target."""
    nxt = log_path + ".next"
    try:
        with open(nxt) as f:
            words = f.read().split()
    except FileNotFoundError:
        return
    due = len(words) == 3 if when is None else len(words) > 3 and words[3] in when
    if due:
        state["min"], state["max"], state["version"] = words[:3]
        os.unlink(nxt)


signal.signal(signal.SIGUSR1, lambda signum, frame: switch(None))


def head(status, ctype, length, extra=b""):
    return (b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nApi-Version: %s\r\n"
            % (status, REASONS[status].encode(), ctype.encode(), length,
               state["max"].encode()) + extra + b"\r\n")


def version_body():
    return {"Version": state["version"], "ApiVersion": state["max"],
            "MinAPIVersion": state["min"], "Os": "linux",
            "Platform": {"Name": "Docker Engine - Community"},
            "Components": [{"Name": "Engine", "Version": state["version"]}]}


def respond(method, v, rest, payload):
    """(status, body) for a versioned request; body "attach" hijacks."""
    if num(v) < num(state["min"]):
        return 400, {"message": "client version %s is too old. Minimum supported API version "
                     "is %s, please upgrade your client to a newer version" % (v, state["min"])}
    if num(v) > num(state["max"]):
        return 400, {"message": "client version %s is too new. Maximum supported API version "
                     "is %s" % (v, state["max"])}
    if rest == "/_ping":
        return 200, b"OK"
    if rest == "/version":
        return 200, version_body()
    if rest == "/containers/json":
        return 200, []
    if rest == "/images/create":
        # A pull that fails the way API 1.48 and later say it: errorDetail only.
        return 200, (b'{"status":"Pulling from library/busybox"}\n'
                     b'{"errorDetail":{"message":"fake engine: pull access denied"}}\n')
    if method == "POST" and rest == "/containers/create":
        image = json.loads(payload or b"{}").get("Image")
        if image != "busybox":
            return 404, {"message": "No such image: %s:latest" % image}
        return 201, {"Id": "fakeid", "Warnings": []}
    if method == "POST" and rest == "/containers/fakeid/attach":
        return 101, "attach"
    if method == "POST" and rest in ("/containers/fakeid/start", "/containers/fakeid/stop",
                                     "/containers/fakeid/kill"):
        return 204, b""
    if method == "POST" and rest == "/containers/fakeid/wait":
        return 200, {"StatusCode": 0, "Error": None}
    if method == "GET" and rest == "/containers/fakeid/json":
        return 200, {"Id": "fakeid", "Name": "/fake", "State": {
            "Status": "exited", "Running": False, "ExitCode": 0, "OOMKilled": False,
            "Error": "", "StartedAt": "2026-01-01T00:00:00Z",
            "FinishedAt": "2026-01-01T00:00:01Z"}}
    if method == "DELETE" and rest == "/containers/fakeid":
        return 204, b""
    return 404, {"message": "fake engine: no %s %s" % (method, rest)}


def serve(c):
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                more = c.recv(65536)
                if not more:
                    return
                buf += more
            top, buf = buf.split(b"\r\n\r\n", 1)
            lines = top.decode("latin-1").split("\r\n")
            method, target, proto = lines[0].split(" ")[:3]
            length = 0
            for h in lines[1:]:
                k, _, val = h.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(val.strip())
            while len(buf) < length:
                more = c.recv(65536)
                if not more:
                    return
                buf += more
            payload, buf = buf[:length], buf[length:]
            path = target.split("?")[0]
            with lock:
                switch(target)
                m = re.match(r"^/v(\d+\.\d+)(/.*)$", path)
                if m:
                    status, body = respond(method, m.group(1), m.group(2), payload)
                elif path == "/version":
                    status, body = 200, version_body()
                elif path == "/_ping":
                    status, body = 200, b"OK"
                else:
                    status, body = 404, {"message": "page not found"}
                with open(log_path, "a") as f:
                    f.write("%s %s %d\n" % (method, target, status))
            if body == "attach":
                # Hijacked: one stdout frame, then the end of the stream.
                c.sendall(b"HTTP/1.1 101 UPGRADED\r\n"
                          b"Content-Type: application/vnd.docker.multiplexed-stream\r\n"
                          b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
                line = b"hello from the fake engine\n"
                c.sendall(struct.pack(">BxxxI", 1, len(line)) + line)
                c.shutdown(socket.SHUT_WR)
                return
            if isinstance(body, bytes):
                data, ctype = body, "text/plain"
            else:
                data, ctype = json.dumps(body).encode(), "application/json"
            c.sendall(head(status, ctype, len(data)) + data)
            if proto == "HTTP/1.0":
                return  # no keep-alive in 1.0: the answer runs to end of file
    except (ConnectionError, OSError):
        pass
    finally:
        c.close()


s = socket.socket(socket.AF_UNIX)
s.bind(sock_path)
s.listen(64)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
