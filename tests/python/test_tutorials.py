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


def _runner(script: str):
    """How to run @script: with this interpreter, or (.sh) with bash."""
    return _run if script.endswith(".py") else _run_sh


@pytest.mark.parametrize("script", ["twotier.py", "twotier.sh"])
def test_twotier(cluster: List[Server], script: str) -> None:
    for tool in ("redis-server", "redis-cli", "dig"):
        if not any(os.access(os.path.join(d, tool), os.X_OK) for d in ("/usr/bin", "/bin")):
            pytest.skip(f"{tool} is not installed (see .ci/deps)")
    r = _runner(script)(script, "-d", cluster[0].url, "--port", str(_free_port()))
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("hello from ")
    err = r.stderr.decode()
    for tier in ("redis on ", "dns on ", "client on "):
        assert tier in err
    _nothing_left(cluster)


def _bot(c: circuit.Client, name: str) -> List[str]:
    """The watchbot's processes, on every server this client sees."""
    out: List[str] = []
    for s in c.servers():
        try:
            out += [e.path for e in c.ls(f"{s}/{name}", recursive=True) if e.kind == "proc"]
        except circuit.Error:
            pass
    return out


def _epoch(paths: List[str]) -> int:
    return max((int(p.split("/")[3]) for p in paths), default=-1)


def _until(what, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _stop_server_of(role: str, alive: List[Server], name: str) -> List[Server]:
    """Stops the server the @role ("nucleus" or "payload") of watchbot @name
    is on and checks the bot goes on elsewhere; returns the servers left."""
    with circuit.dial(alive[0].url) as c:
        _until(lambda: c.servers() == sorted(s.anchor for s in alive))
        path = _until(lambda: [p for p in _bot(c, name) if p.endswith("/" + role)])[0]
    victim = next(s for s in alive if s.anchor == "/" + path.split("/")[1])
    victim.stop()
    left = [s for s in alive if s is not victim]
    with circuit.dial(left[0].url) as c:
        _until(lambda: c.servers() == sorted(s.anchor for s in left))
        _until(lambda: _epoch(_bot(c, name)) > int(path.split("/")[3]) + 1)
    return left


@pytest.mark.parametrize("script", ["watchbot.py", "watchbot.sh"])
def test_watchbot_survives_its_servers(cluster: List[Server], script: str) -> None:
    run = _runner(script)
    name = "bot-" + script.split(".")[1]
    r = run(script, "-d", cluster[0].url, "start", "--name", name, "--seconds", "1")
    assert r.returncode == 0, r.stderr
    with circuit.dial(cluster[0].url) as c:
        _until(lambda: _epoch(_bot(c, name)) >= 2)  # it hops
    # The server of the nucleus (the payload starts the next one), then
    # that of a payload (the nucleus goes on).
    left = _stop_server_of("payload", _stop_server_of("nucleus", cluster, name), name)
    r = run(script, "-d", left[0].url, "stop", "--name", name)
    assert r.returncode == 0, r.stderr
    _nothing_left(left)


@pytest.mark.parametrize("script", ["watchbot.py", "watchbot.sh"])
def test_watchbot_back_channel(cluster: List[Server], script: str) -> None:
    run = _runner(script)
    chan = cluster[0].anchor + "/reports"
    r = run(script, "-d", cluster[0].url, "start", "--name", "rbot", "--seconds", "0.3",
            "--report", chan)
    assert r.returncode == 0, r.stderr
    with circuit.dial(cluster[1].url) as c:
        reports = c.chan(chan)
        got = [reports.recv(timeout=30).decode() for _ in range(4)]
        time.sleep(1)
        # Nobody receives now: the bot waits for that, it does not run ahead.
        assert _epoch(_bot(c, "rbot")) <= 4
    # One report a hop, in order.
    epochs = [int(t.split()[1].rstrip(":")) for t in got]
    assert epochs == [0, 1, 2, 3]
    for e, text in zip(epochs, got):
        assert text.endswith(f"/rbot/{e}/payload exited 0"), text
    r = run(script, "-d", cluster[0].url, "stop", "--name", "rbot", "--report", chan)
    assert r.returncode == 0, r.stderr
    _nothing_left(cluster)


def _run_sh(name: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    if not os.environ.get("CIRCUIT_BIN"):
        pytest.skip("CIRCUIT_BIN is not set: run through ctest")
    return subprocess.run(["bash", os.path.join(TUTORIALS, name), *args], input=stdin,
                          capture_output=True, timeout=120)


def test_shell_versions(cluster: List[Server]) -> None:
    r = _run_sh("pipeline.sh", "-d", cluster[0].url, stdin=b"b\na\nb\nc\nb\nc\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [b"1", b"a", b"2", b"c", b"3", b"b"]
    where = {line.split()[-1] for line in r.stderr.decode().splitlines() if " on /X" in line}
    assert where == {s.anchor for s in cluster}
    _nothing_left(cluster)
    r = _run_sh("waitall.sh", "-d", cluster[0].url, "0.9", "0.2", "0.5")
    assert r.returncode == 0, r.stderr
    order = [line.split()[0].rsplit("/", 1)[1] for line in r.stdout.decode().splitlines()]
    assert order == ["sleep1", "sleep2", "sleep0"]
    r = _run_sh("waitall.sh", "-d", cluster[0].url, "-first", "30", "0.2")
    assert r.returncode == 0, r.stderr
    assert [line.split()[0].rsplit("/", 1)[1] for line in r.stdout.decode().splitlines()] == \
        ["sleep1"]
    _nothing_left(cluster)
