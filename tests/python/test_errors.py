# SPDX-License-Identifier: Apache-2.0
"""Bad input: a clear one-line exception of the right class, and the server
keeps serving."""
from __future__ import annotations

import pytest

import circuit
from conftest import Server


def _one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    assert isinstance(e.value, circuit.Error)
    return msg


def test_wrong_kind(server: Server, client: circuit.Client) -> None:
    ch = client.mkchan(server.anchor + "/ch", 1)
    with pytest.raises(circuit.Error) as e:
        client.proc(ch.path).wait()
    assert e.value.code == "wrong-kind"
    assert "wait" in _one_line(e)
    with pytest.raises(circuit.Error) as e:
        client.chan(ch.path).send(b"x")
        client.proc(ch.path).stdout.read()
    assert e.value.code == "wrong-kind"
    ch.scrub()
    assert server.alive()


def test_missing_things(server: Server, client: circuit.Client) -> None:
    with pytest.raises(circuit.Error) as e:
        client.peek(server.anchor + "/nothing")
    assert e.value.code == "not-found"
    assert "nothing" in _one_line(e)
    with pytest.raises(circuit.Error) as e:
        client.peek("/X0123456789abcdef/x")
    _one_line(e)
    with pytest.raises(circuit.Error) as e:
        client.proc(server.anchor + "/none").stdin.write(b"x")
    assert e.value.code == "not-found"
    with pytest.raises(circuit.Error):
        client.scrub(server.anchor + "/none")
    with pytest.raises(circuit.UsageError):
        client.peek("relative/path")
    assert server.alive()


def test_bad_specs(server: Server, client: circuit.Client) -> None:
    a = server.anchor
    with pytest.raises(circuit.Error) as e:
        client.call("mkproc", a + "/bad", input=b"{not json")
    _one_line(e)
    with pytest.raises(circuit.Error) as e:
        client.call("mkproc", a + "/bad", input=b'{"Path":"/bin/true","Bogus":1}')
    assert "Bogus" in _one_line(e)
    with pytest.raises(circuit.Error) as e:
        client.mkproc(a + "/bad", "/no/such/program")
    _one_line(e)
    with pytest.raises(circuit.Error) as e:
        client.call("mkchan", a + "/bad", "lots")
    _one_line(e)
    with pytest.raises(circuit.Error) as e:
        client.call("mknosuchkind", a + "/bad")
    _one_line(e)
    # A failed mk leaves no element behind.
    assert client.ls(a) == []
    client.mkchan(a + "/taken", 1)
    with pytest.raises(circuit.Error) as e:
        client.mkchan(a + "/taken", 1)
    assert e.value.code == "exists"
    client.scrub(a + "/taken")
    assert server.alive()


def test_local_argument_errors(server: Server, client: circuit.Client) -> None:
    with pytest.raises(ValueError):
        client.mkchan(server.anchor + "/c", -1)
    with pytest.raises(TypeError):
        client.mkproc(server.anchor + "/p", "/bin/echo", "not a list")
    with pytest.raises(TypeError):
        client.call("incr", server.anchor + "/p", object())
    with pytest.raises(ValueError):
        client.proc(server.anchor + "/p").wait(timeout=-1)
    assert client.ls(server.anchor) == []


def test_server_gone(start_server) -> None:
    s = start_server()
    c = circuit.dial(s.url)
    s.stop(9)
    with pytest.raises(circuit.Unreachable) as e:
        c.servers()
    assert e.value.exit_code == 3
    _one_line(e)
    c.close()


def test_exception_classes() -> None:
    for cls, code in [(circuit.Error, 1), (circuit.UsageError, 2), (circuit.Unreachable, 3),
                      (circuit.Closed, 4), (circuit.ProcessFailed, 5), (circuit.Timeout, 6)]:
        assert issubclass(cls, circuit.Error) and cls.exit_code == code
    assert circuit.__doc__ and "dial" in circuit.__doc__
    assert circuit.Client.__doc__ and "threads" in circuit.Client.__doc__
