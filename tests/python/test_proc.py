# SPDX-License-Identifier: Apache-2.0
"""Processes: spec, streams as files, wait, signal, timeouts, threads."""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

import circuit
from conftest import Server, handoff, interrupted


def test_mkproc_spec(server: Server, client: circuit.Client, tmp_root: str) -> None:
    a = server.anchor
    p = client.mkproc(a + "/env", "/bin/sh", ["-c", 'echo "$GREETING"; pwd; echo oops >&2; exit 3'],
                      env={"GREETING": "hello"}, dir=tmp_root)
    assert isinstance(p, circuit.Proc) and p.path == a + "/env"
    assert p.stdout.read() == f"hello\n{tmp_root}\n".encode()
    assert p.stderr.read() == b"oops\n"
    status = p.wait()
    assert status["ExitCode"] == 3 and status["Phase"] == "exited"
    with pytest.raises(circuit.ProcessFailed) as e:
        p.wait(check=True)
    assert e.value.exit_code == 5 and e.value.status["ExitCode"] == 3
    assert "3" in str(e.value)
    info = p.peek()
    assert info["Cmd"]["Path"] == "/bin/sh" and info["Cmd"]["Env"] == ["GREETING=hello"]
    p.scrub()
    assert client.ls(a) == []
    # Scrub=True: the element goes by itself once the process exited.
    client.mkproc(a + "/gone", "/bin/true", scrub=True)
    deadline = time.monotonic() + 10
    while client.ls(a) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.ls(a) == []


def test_streams_as_files(server: Server, client: circuit.Client) -> None:
    p = client.mkproc(server.anchor + "/cat", "/bin/cat")
    src = io.BytesIO(b"".join(b"line %d\n" % i for i in range(1000)))
    shutil.copyfileobj(src, p.stdin)
    p.stdin.close()
    lines = list(p.stdout)
    assert lines == [b"line %d\n" % i for i in range(1000)]
    assert p.stdout.read() == b""
    assert p.wait(check=True)["ExitCode"] == 0
    p.scrub()
    # Output not read when a reader closes stays for the next one (the raw
    # stream: the buffered one's buffer has read ahead).
    q = client.mkproc(server.anchor + "/seq", "/usr/bin/seq", ["1", "5000"])
    first = q.stdout.raw.read(10)
    q.stdout.close()
    rest = client.proc(q.path).stdout.read()
    assert (first + rest).split() == [str(i).encode() for i in range(1, 5001)]
    q.wait()
    q.scrub()


def test_100_mib_byte_for_byte(server: Server, client: circuit.Client) -> None:
    """100 MiB through cat: one thread writes stdin while another reads
    stdout, on one Client (no deadlock), and every byte comes back."""
    size = 100 * 1024 * 1024
    block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB, not all alike
    p = client.mkproc(server.anchor + "/big", "/bin/cat")
    sent = hashlib.sha256()
    errors = []

    class Source(io.RawIOBase):
        left = size

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:
            n = min(len(b), self.left, len(block))
            b[:n] = block[:n]
            sent.update(block[:n])
            self.left -= n
            return n

    def writer() -> None:
        try:
            shutil.copyfileobj(Source(), p.stdin, 256 * 1024)
            p.stdin.close()
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    got = hashlib.sha256()
    total = 0
    while True:
        chunk = p.stdout.read1(1 << 20)
        if not chunk:
            break
        got.update(chunk)
        total += len(chunk)
    t.join()
    assert not errors
    assert total == size
    assert got.hexdigest() == sent.hexdigest()
    assert p.wait(check=True)["ExitCode"] == 0
    p.scrub()


def test_signal_and_timeout(server: Server, client: circuit.Client) -> None:
    p = client.mkproc(server.anchor + "/sleep", "/bin/sleep", ["60"])
    t0 = time.monotonic()
    with pytest.raises(circuit.Timeout) as e:
        p.wait(timeout=0.3)
    assert time.monotonic() - t0 >= 0.25  # the timeout was waited out, not ignored
    assert e.value.exit_code == 6
    assert p.peek()["Phase"] == "running"
    # A read timeout leaves the stream readable later.
    p.stdout.raw.timeout = 0.2
    with pytest.raises(circuit.Timeout):
        p.stdout.read(1)
    p.signal("TERM")
    status = p.wait(timeout=10)
    assert status["Signal"] == "SIGTERM"
    with pytest.raises(circuit.ProcessFailed):
        p.wait(check=True)
    with pytest.raises(circuit.Error) as e2:
        p.signal("NOPE")
    assert "unknown signal" in str(e2.value)
    p.scrub()


def test_stdin_blocked_process(server: Server, client: circuit.Client) -> None:
    """wait returns when the process exits, whatever its stdin."""
    p = client.mkproc(server.anchor + "/ignore", "/bin/sh", ["-c", "sleep 0.2"])
    p.stdin.write(b"not read\n")
    assert p.wait(timeout=10)["ExitCode"] == 0
    p.close()
    p.scrub()


def test_threads_share_a_client(server: Server, client: circuit.Client) -> None:
    errors = []

    def worker(i: int) -> None:
        try:
            for j in range(10):
                path = f"{server.anchor}/t{i}/p{j}"
                q = client.mkproc(path, "/bin/echo", [str(i * 100 + j)])
                assert q.stdout.read() == f"{i * 100 + j}\n".encode()
                assert q.wait(check=True)["ExitCode"] == 0
                q.scrub()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert client.ls(server.anchor) == []


def test_keyboard_interrupt_cancels_on_server(server: Server, client: circuit.Client) -> None:
    """Ctrl-C during a blocked recv raises KeyboardInterrupt at once and
    leaves no receive pending: the next message goes to the next reader."""
    ch = client.mkchan(server.anchor + "/ki", 0)
    assert interrupted(server.url, f"c.chan({ch.path!r}).recv()") == "interrupted"
    # Nothing pending: a send now waits for a receiver, and this one gets it.
    assert handoff(ch, b"after") == [b"after"]
    ch.scrub()


def test_generic_call_with_input(server: Server, client: circuit.Client) -> None:
    """The CLI's verbs through call(): input from bytes and from a file."""
    p = client.mkproc(server.anchor + "/tr", "/usr/bin/tr", ["a-z", "A-Z"])
    client.call("stdin", p.path, input=io.BytesIO(b"from a file\n" * 1000))
    r = client.call("stdout", p.path)
    assert r.output == b"FROM A FILE\n" * 1000
    assert client.call("wait", p.path).result["ExitCode"] == 0
    q = client.mkproc(server.anchor + "/cat", "/bin/cat")
    with client.call("stdin", q.path, input=b"streamed\n", stream=True) as s:
        assert s.read() == b""
    with client.call("stdout", q.path, stream=True) as out:
        assert list(out) == [b"streamed\n"]
    r = client.call("wait", q.path)
    assert r.failed is False
    p.scrub()
    q.scrub()


def test_keyboard_interrupt_in_wait(server: Server, client: circuit.Client) -> None:
    p = client.mkproc(server.anchor + "/long", "/bin/sleep", ["60"])
    assert interrupted(server.url, f"c.proc({p.path!r}).wait()") == "interrupted"
    # The process runs on, and the server serves on.
    assert p.peek()["Phase"] == "running"
    p.signal("KILL")
    assert p.wait(timeout=10)["Signal"] == "SIGKILL"
    p.scrub()


def test_keyboard_interrupt_in_blocked_write(server: Server, client: circuit.Client) -> None:
    """Ctrl-C while stdin.write waits for credit (a process that never reads
    its stdin, the pipe and the server's window full) raises at once and
    resets the call; the process and the server go on. Before, the write
    blocked in libcircuit with no timeout and Ctrl-C was not seen."""
    p = client.mkproc(server.anchor + "/noread", "/bin/sleep", ["60"])
    statement = f"c.proc({p.path!r}).stdin.write(b'x' * (64 << 20))"
    assert interrupted(server.url, statement) == "interrupted"
    assert p.peek()["Phase"] == "running"
    assert server.alive()
    p.signal("KILL")
    assert p.wait(timeout=10)["Signal"] == "SIGKILL"
    p.scrub()
