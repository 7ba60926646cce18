# SPDX-License-Identifier: Apache-2.0
"""Dialing, the tree, and the element kinds other than proc and chan."""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time

import pytest

import circuit
from conftest import COUNTER_SO, Server, handoff


def test_dial_and_tree(server: Server, client: circuit.Client) -> None:
    assert client.server_id == server.id
    assert client.anchor == server.anchor
    assert client.url == server.url
    assert client.servers() == [server.anchor]
    hostport = server.url.split("/")[2]
    assert client.ls("/") == [circuit.Entry(server.anchor, "server", None, hostport, "alive")]
    info = client.peek(server.anchor)
    assert isinstance(info, dict) and "proc" in info["Plugins"]
    # Anchors made on the way are listed; recursive lists every descendant.
    client.mkchan(server.anchor + "/a/b/ch", 1)
    assert [e.path for e in client.ls(server.anchor)] == [server.anchor + "/a"]
    rec = {e.path: e.kind for e in client.ls(server.anchor, recursive=True)}
    assert rec == {server.anchor + "/a": None, server.anchor + "/a/b": None,
                   server.anchor + "/a/b/ch": "chan"}
    # With status: what `circuit ls -l` shows, from the kind.
    st = {e.path: e.status for e in client.ls(server.anchor, recursive=True, status=True)}
    assert st[server.anchor + "/a/b/ch"] == {"Pending": 0, "Cap": 1, "Closed": False}
    assert st[server.anchor + "/a"] is None
    client.scrub(server.anchor + "/a/b/ch")
    # An anchor with no element and no children goes at once.
    assert client.ls(server.anchor) == []


def test_context_manager_closes(server: Server) -> None:
    with circuit.dial(server.url, timeout=2) as c:
        assert c.servers() == [server.anchor]
    with pytest.raises(ValueError):
        c.servers()


def test_bare_address_and_wrong_id(server: Server) -> None:
    hostport = server.url.split("/")[2]
    with circuit.dial(hostport) as c:
        assert c.server_id == server.id
    wrong = server.url[: -16] + "0" * 16
    with pytest.raises(circuit.Unreachable) as e:
        circuit.dial(wrong)
    assert e.value.code == "wrong-server"
    assert e.value.exit_code == 3


def test_unreachable(tmp_root: str) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(circuit.Unreachable) as e:
        circuit.dial(f"127.0.0.1:{port}", timeout=1)
    assert e.value.code == "connect"
    assert "\n" not in str(e.value)
    # A URL that does not parse is a configuration mistake (exit code 2).
    with pytest.raises(circuit.UsageError) as e:
        circuit.dial("circuit://not a url")
    assert e.value.code == "address" and e.value.exit_code == 2


def _lookup(env: dict, code: str) -> str:
    """Runs @code in a fresh interpreter with only @env's CIRCUIT* variables."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("CIRCUIT")}
    full.update(env)
    r = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_lookup_order(server: Server, start_server, tmp_root: str) -> None:
    other = start_server()
    home = os.path.join(tmp_root, "lookup-home")
    os.makedirs(home)
    code = "import circuit; print(circuit.dial().server_id)"
    # ~/.circuit when nothing else says.
    with open(os.path.join(home, ".circuit"), "w") as f:
        f.write(server.url + "\n")
    assert _lookup({"HOME": home}, code) == server.id
    # $CIRCUIT (tilde expanded) before ~/.circuit.
    with open(os.path.join(home, "other"), "w") as f:
        f.write(other.url + "\n")
    assert _lookup({"HOME": home, "CIRCUIT": "~/other"}, code) == other.id
    # An explicit URL before both.
    code_url = f"import circuit; print(circuit.dial({server.url!r}).server_id)"
    assert _lookup({"HOME": home, "CIRCUIT": "~/other"}, code_url) == server.id
    # $CIRCUIT_DISCOVER before $CIRCUIT: a group where nothing answers says so.
    code_d = ("import circuit\ntry:\n circuit.dial()\nexcept circuit.Unreachable as e:\n"
              " print(e.code, 'answered' in str(e))")
    out = _lookup({"HOME": home, "CIRCUIT": "~/other",
                   "CIRCUIT_DISCOVER": "228.8.8.8:" + str(_free_udp_port())}, code_d)
    assert out == "timeout True"


def _free_udp_port() -> int:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    u.close()
    return port


def test_discover_errors() -> None:
    with pytest.raises(circuit.Unreachable) as e:
        circuit.discover(f"228.8.8.8:{_free_udp_port()}", timeout=0.3)
    assert e.value.code == "timeout"
    with pytest.raises(circuit.UsageError) as e:
        circuit.discover("not-a-group", timeout=0.3)
    assert e.value.code == "address"


def test_keyed_server(start_server, tmp_root: str) -> None:
    key = os.path.join(tmp_root, "cluster.key")
    with open(os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(circuit.keygen() + "\n")
    wrong = os.path.join(tmp_root, "wrong.key")
    with open(os.open(wrong, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(circuit.keygen() + "\n")
    s = start_server(key_file=key)
    with circuit.dial(s.url, key_file=key) as c:
        p = c.mkproc(s.anchor + "/echo", "/bin/echo", ["keyed"])
        assert p.stdout.read() == b"keyed\n"
        assert p.wait()["ExitCode"] == 0
        # A second connection of the pool is keyed too: a thread blocked in
        # recv holds one while this one sends on another.
        ch = c.mkchan(s.anchor + "/sync", 0)
        assert handoff(ch, b"keyed") == [b"keyed"]
        ch.scrub()
        p.scrub()
    # Key trouble is a configuration mistake (exit code 2), as in the CLI.
    with pytest.raises(circuit.UsageError) as e:
        circuit.dial(s.url)
    assert e.value.code == "key" and "requires a key" in str(e.value)
    with pytest.raises(circuit.Error) as e:
        circuit.dial(s.url, key_file=wrong)
    assert e.value.code in ("key", "protocol", "connect")
    assert isinstance(e.value, circuit.UsageError if e.value.code == "key" else circuit.Unreachable)
    # $CIRCUIT_HMAC is the default key file.
    os.environ["CIRCUIT_HMAC"] = key
    try:
        with circuit.dial(s.url) as c:
            assert c.servers() == [s.anchor]
    finally:
        del os.environ["CIRCUIT_HMAC"]
    assert s.alive()


def test_unix_socket(start_server, tmp_root: str) -> None:
    sock = os.path.join(tmp_root, "circuitd.sock")
    s = start_server("--socket", sock)
    with circuit.dial(sock) as c:
        assert c.server_id == s.id
        ch = c.mkchan(s.anchor + "/sync", 0)
        assert handoff(ch, b"local") == [b"local"]  # a second connection, same socket
        ch.scrub()
    # $CIRCUIT_SOCKET is the local socket of the lookup order.
    code = "import circuit; print(circuit.dial().server_id)"
    assert _lookup({"HOME": tmp_root, "CIRCUIT_SOCKET": sock}, code) == s.id


def test_third_party_kind_through_call(start_server) -> None:
    if not COUNTER_SO or not os.path.exists(COUNTER_SO):
        pytest.skip("the counter example plugin was not built")
    s = start_server(extra_plugins=[COUNTER_SO])
    with circuit.dial(s.url) as c:
        hits = s.anchor + "/hits"
        r = c.call("mkcounter", hits, 5)
        assert isinstance(r, circuit.Reply) and r.failed is False
        assert c.call("incr", hits, 2).result == 7
        assert c.call("get", hits).result == 7
        assert c.peek(hits)["Value"] == 7
        # A streamed verb: watch prints the value, then one line per change.
        with c.call("watch", hits, stream=True) as w:
            assert w.readline() == b"7\n"
            c.call("incr", hits, -3)
            assert w.readline() == b"4\n"
        with pytest.raises(circuit.Error) as e:
            c.call("incr", hits, "many")
        assert "N" in str(e.value) and e.value.code in ("invalid", "usage")
        with pytest.raises(circuit.Error) as e:
            c.call("nosuchverb", hits)
        assert e.value.code == "wrong-kind"
        c.scrub(hits)
        assert c.ls(s.anchor) == []


def _dns_query(addr: str, name: str, qtype: int = 1) -> bytes:
    """One UDP question to @addr; the answer's bytes."""
    host, port = addr.rsplit(":", 1)
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    q += struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    try:
        s.sendto(q, (host, int(port)))
        return s.recv(4096)
    finally:
        s.close()


def test_dns(server: Server, client: circuit.Client) -> None:
    d = client.mkdns(server.anchor + "/dns", "127.0.0.1")
    addr = d.peek()["Address"]
    d.set("redis.svc. 60 IN A 10.1.2.3")
    d.load(["a.svc. 60 IN A 10.0.0.1", "b.svc. 60 IN A 10.0.0.2"])
    assert set(d.peek()["Records"]) == {"redis.svc.", "a.svc.", "b.svc."}
    answer = _dns_query(addr, "redis.svc.")
    assert struct.unpack(">H", answer[6:8])[0] == 1  # one answer
    assert answer.endswith(bytes([10, 1, 2, 3]))
    d.unset("redis.svc.")
    assert "redis.svc." not in d.peek()["Records"]
    with pytest.raises(circuit.Error) as e:
        d.set("relative 60 IN A 10.0.0.1")
    assert e.value.code == "invalid" and "\n" not in str(e.value)
    d.scrub()
    assert server.alive()


def test_docker_kind_reached(server: Server, client: circuit.Client) -> None:
    # The docker plugin needs an engine this test does not start: the
    # binding must still carry mkdkr to it and its one-line error back.
    path = server.anchor + "/box"
    with pytest.raises(circuit.Error) as e:
        client.mkdkr(path, {"Image": "busybox", "Path": "/bin/true", "Args": []})
    assert "\n" not in str(e.value)
    with pytest.raises(circuit.Error):
        client.mkdkr(path, "{not json")
    assert client.ls(server.anchor) == []
    assert server.alive()


def test_subscriptions(start_server) -> None:
    a = start_server()
    b = start_server("-j", a.url)
    with circuit.dial(a.url) as c:
        with c.subscribe_join(a.anchor + "/join") as join:
            seen = set()
            deadline = time.monotonic() + 20
            while seen != {a.anchor, b.anchor} and time.monotonic() < deadline:
                seen.add(join.recv(timeout=20))
            assert seen == {a.anchor, b.anchor}
        assert c.ls(a.anchor) == []
        leave = c.subscribe_leave(a.anchor + "/leave")
        b.stop(9)
        assert leave.recv(timeout=30) == b.anchor
        leave.close()
        with pytest.raises(circuit.Error):
            leave.recv(timeout=1)
