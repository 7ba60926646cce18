# SPDX-License-Identifier: Apache-2.0
"""The tutorials of docs/tutorials, run as a newcomer would, against three
servers on 127.0.0.1 joined with -j; nothing may be left afterwards."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from typing import List

import pytest

import circuit
from conftest import Server

TUTORIALS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "docs", "tutorials")


@pytest.fixture
def cluster(start_server) -> List[Server]:
    a = start_server()
    servers = [a, start_server("-j", a.url), start_server("-j", a.url)]
    want = sorted(s.anchor for s in servers)
    with circuit.dial(a.url) as c:
        deadline = time.monotonic() + 30
        while c.servers() != want and time.monotonic() < deadline:
            time.sleep(0.1)
        assert c.servers() == want
    return servers


def _run(name: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, os.path.join(TUTORIALS, name), *args], input=stdin,
                          capture_output=True, timeout=120)


def _nothing_left(servers: List[Server]) -> None:
    with circuit.dial(servers[0].url) as c:
        for s in servers:
            assert c.ls(s.anchor) == [], s.anchor


def test_pipeline(cluster: List[Server], tmp_root: str) -> None:
    rng = random.Random(21)
    words = [rng.choice(["alpha", "beta", "gamma", "delta", "pi"]) + str(rng.randrange(50))
             for _ in range(20000)]
    data = ("\n".join(words) + "\n").encode()
    path = os.path.join(tmp_root, "words")
    with open(path, "wb") as f:
        f.write(data)
    r = _run("pipeline.py", "-d", cluster[0].url, path)
    assert r.returncode == 0, r.stderr
    local = subprocess.run("sort | uniq -c | sort -n", shell=True, input=data,
                           capture_output=True, check=True, env=dict(os.environ, LC_ALL="C"))
    # The stages run under the servers' environment: compare as sets of
    # lines and check the order by count, whatever the collation.
    assert sorted(r.stdout.splitlines()) == sorted(local.stdout.splitlines())
    counts = [int(line.split()[0]) for line in r.stdout.splitlines()]
    assert counts == sorted(counts)
    # Each stage ran on another server.
    where = {line.split()[-1] for line in r.stderr.decode().splitlines() if " on /X" in line}
    assert where == {s.anchor for s in cluster}
    # From standard input too.
    r = _run("pipeline.py", "-d", cluster[0].url, stdin=b"b\na\nb\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [b"1", b"a", b"2", b"b"]
    _nothing_left(cluster)


def test_waitall(cluster: List[Server]) -> None:
    r = _run("waitall.py", "-d", cluster[0].url, "1.5", "0.3", "0.9")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert [line.split()[0].rsplit("/", 1)[1] for line in lines] == ["sleep1", "sleep2", "sleep0"]
    assert all(" exited 0 after " in line for line in lines)
    _nothing_left(cluster)
    r = _run("waitall.py", "-d", cluster[0].url, "--first", "30", "0.2", "30")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 1 and lines[0].split()[0].endswith("/sleep1")
    _nothing_left(cluster)


def _free_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_twotier(cluster: List[Server]) -> None:
    for tool in ("redis-server", "redis-cli", "dig"):
        if not any(os.access(os.path.join(d, tool), os.X_OK) for d in ("/usr/bin", "/bin")):
            pytest.skip(f"{tool} is not installed (see .ci/deps)")
    r = _run("twotier.py", "-d", cluster[0].url, "--port", str(_free_port()))
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("hello from ")
    err = r.stderr.decode()
    for tier in ("redis on ", "dns on ", "client on "):
        assert tier in err
    _nothing_left(cluster)
