# SPDX-License-Identifier: Apache-2.0
"""Channels: send and receive, files, iteration, close, timeouts, threads."""
from __future__ import annotations

import io
import threading

import pytest

import circuit
from conftest import Server, handoff


def test_send_recv_close(server: Server, client: circuit.Client) -> None:
    ch = client.mkchan(server.anchor + "/q", 4)
    assert isinstance(ch, circuit.Chan)
    ch.send(b"one")
    ch.send("two")
    ch.send(bytearray(b"three"))
    ch.send(b"")  # an empty message is a message
    assert ch.recv() == b"one"
    ch.close()
    assert list(ch) == [b"two", b"three", b""]
    with pytest.raises(circuit.Closed) as e:
        ch.recv()
    assert e.value.exit_code == 4 and e.value.code == "closed"
    with pytest.raises(circuit.Error):
        ch.send(b"late")
    ch.scrub()


def test_big_message_from_file(server: Server, client: circuit.Client) -> None:
    ch = client.mkchan(server.anchor + "/big", 1)
    data = bytes(range(256)) * 3000  # 750 KiB: over the inline size, under the limit
    ch.send(io.BytesIO(data))
    assert ch.recv() == data
    with pytest.raises(circuit.Error) as e:
        ch.send(io.BytesIO(b"y" * (2 << 20)))
    assert "limit" in str(e.value)
    small = b"x" * 100
    ch.send(io.BytesIO(small))
    assert ch.recv() == small
    ch.scrub()


def test_unbuffered_between_threads(server: Server, client: circuit.Client) -> None:
    ch = client.mkchan(server.anchor + "/sync", 0)
    got = []

    def reader() -> None:
        for m in ch:
            got.append(m)

    t = threading.Thread(target=reader)
    t.start()
    for i in range(200):
        ch.send(b"%d" % i, timeout=10)
    ch.close()
    t.join(30)
    assert got == [b"%d" % i for i in range(200)]
    ch.scrub()


def test_timeouts_take_nothing(server: Server, client: circuit.Client) -> None:
    ch = client.mkchan(server.anchor + "/t", 0)
    with pytest.raises(circuit.Timeout):
        ch.recv(timeout=0.2)
    # An unbuffered send with no receiver is withdrawn when it times out.
    with pytest.raises(circuit.Timeout):
        ch.send(b"withdrawn", timeout=0.2)
    assert handoff(ch, b"kept") == [b"kept"]
    ch.scrub()


def test_call_timeout_on_client(server: Server) -> None:
    with circuit.dial(server.url, call_timeout=0.3) as c:
        ch = c.mkchan(server.anchor + "/d", 0)
        with pytest.raises(circuit.Timeout) as e:
            ch.recv()
        assert e.value.code == "deadline"
        ch.scrub()
