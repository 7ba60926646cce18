# SPDX-License-Identifier: Apache-2.0
"""Byte streams of elements as Python file objects (io.RawIOBase).

Each open stream holds one connection of its Client for itself (taken from
the Client's pool when the stream is first used, given back when it ends),
so a thread blocked reading one stream never holds up another thread
writing a second one.
"""
from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Optional

from . import _circuit

if TYPE_CHECKING:
    from ._client import Client

_DRAIN = 4096


def _seconds(timeout: Optional[float]) -> float:
    """A timeout for _circuit: seconds, or -1.0 for none."""
    if timeout is None:
        return -1.0
    timeout = float(timeout)
    if timeout < 0:
        raise ValueError("timeout must be None or >= 0")
    return timeout


def drain(call: "_circuit.Call", timeout: float = -1.0) -> None:
    """Reads @call's output to its end and acknowledges it."""
    buf = bytearray(_DRAIN)
    while call.readinto(buf, timeout):
        pass
    call.finish()


def write_from(call: "_circuit.Call", source: Any, chunk: int = 256 * 1024) -> None:
    """Writes what the binary file @source holds to @call, then ends the input."""
    if call.wants_body():
        while True:
            data = source.read(chunk)
            if not data:
                break
            if isinstance(data, str):
                raise TypeError("the input file must be opened in binary mode")
            call.write(data)
        call.close_write()


class Output(io.RawIOBase):
    """The output of an operation (a process's stdout or stderr, a verb's
    output), readable as a binary file. Reading a process's stream from its
    start opens it on first read; what is not read when it is closed stays
    with the server for the next reader.

    ``timeout`` (seconds, None: none) bounds each read; when it passes the
    read raises circuit.Timeout and the stream can be read again later.
    """

    def __init__(
        self,
        client: "Client",
        path: str,
        verb: str,
        call: Optional["_circuit.Call"] = None,
        conn: Optional["_circuit.Conn"] = None,
    ) -> None:
        super().__init__()
        self._client = client
        self._path = path
        self._verb = verb
        self._call = call
        self._conn = conn
        self._eof = False
        self.timeout: Optional[float] = None

    def __repr__(self) -> str:
        return f"<circuit output {self._verb} of {self._path}>"

    def readable(self) -> bool:
        return True

    def _open(self) -> "_circuit.Call":
        conn = self._client._take()
        try:
            call = conn.open(self._verb, self._path, ())
            call.reply(_seconds(self.timeout))
        except BaseException:
            self._client._give(conn)
            raise
        self._conn, self._call = conn, call
        return call

    def _end(self) -> None:
        call, conn = self._call, self._conn
        self._call = self._conn = None
        try:
            if call is not None and not call.ended:
                call.close()
        finally:
            if conn is not None:
                self._client._give(conn)

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("read from a closed stream")
        if self._eof:
            return 0
        call = self._call if self._call is not None else self._open()
        try:
            n = call.readinto(buffer, _seconds(self.timeout))
        except BaseException:
            # The call has ended (the server keeps what was not read): a
            # later read opens the stream again where this one stopped.
            self._end()
            raise
        if n == 0 and len(buffer):
            self._eof = True
            self._end()
        return n

    def close(self) -> None:
        if not self.closed:
            try:
                self._end()
            finally:
                super().close()


class Input(io.RawIOBase):
    """The input of a process or container (its stdin), as a binary file
    that is not buffered: each write reaches the server, blocking while the
    process does not read (back-pressure). close() ends the process's stdin.
    """

    def __init__(self, client: "Client", path: str, verb: str = "stdin") -> None:
        super().__init__()
        self._client = client
        self._path = path
        self._verb = verb
        self._call: Optional["_circuit.Call"] = None
        self._conn: Optional["_circuit.Conn"] = None

    def __repr__(self) -> str:
        return f"<circuit input {self._verb} of {self._path}>"

    def writable(self) -> bool:
        return True

    def _open(self) -> "_circuit.Call":
        conn = self._client._take()
        try:
            call = conn.open(self._verb, self._path, ())
            if not call.wants_body():
                call.reply()  # the server answered instead: raises its error
                raise _circuit_error(f"{self._path}: {self._verb} takes no input")
        except BaseException:
            self._client._give(conn)
            raise
        self._conn, self._call = conn, call
        return call

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed stream")
        call = self._call if self._call is not None else self._open()
        try:
            return call.write(data)
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        call, conn = self._call, self._conn
        self._call = self._conn = None
        try:
            if call is not None:
                call.close()
        finally:
            if conn is not None:
                self._client._give(conn)

    def __del__(self) -> None:
        # Dropped without close(): the process still gets its EOF, without
        # waiting here for the server (a collector must not block).
        call = self._call
        if call is not None and not call.ended:
            try:
                call.close_write()
            except Exception:
                pass
        self._abandon()
        io.RawIOBase.close(self)

    def close(self) -> None:
        """Ends the input (EOF on the process's stdin) and waits until the
        server has taken it all."""
        if self.closed:
            return
        try:
            call = self._call if self._call is not None else self._open()
            call.close_write()
            call.reply()
            drain(call)
        finally:
            self._abandon()
            super().close()


def _circuit_error(message: str) -> Exception:
    from ._errors import UsageError

    return UsageError(message, "usage")
