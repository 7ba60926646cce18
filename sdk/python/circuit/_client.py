# SPDX-License-Identifier: Apache-2.0
"""Client and the element handles (Proc, Chan, Dns, Container, Subscription)."""
from __future__ import annotations

import io
import json
import os
import threading
import warnings
from typing import (
    IO,
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _circuit
from ._errors import (
    Closed,
    Error,
    ProcessFailed,
    Timeout,
    UnauthenticatedWarning,
    Unreachable,
    UsageError,
)
from ._streams import Input, Output, _seconds, drain, write_from

_circuit._set_errors(Error, UsageError, Unreachable, Closed, Timeout)

#: Idle connections a Client keeps for later calls; more are closed.
POOL_MAX = 8

Bytes = Union[bytes, bytearray, memoryview]
#: What an operation takes as input: bytes, text (UTF-8), or a binary file.
InputLike = Union[Bytes, str, IO[bytes], None]


def _ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return 0
    if timeout <= 0:
        raise ValueError("timeout must be None or > 0")
    return max(1, int(timeout * 1000))


def _check_path(path: str) -> str:
    if not isinstance(path, str):
        raise TypeError(f"a path is a str, not {type(path).__name__}")
    if not path.startswith("/"):
        raise UsageError(f"{path!r}: not a path (paths start with /, as in /X.../name)", "usage")
    return path


def _json(text: Optional[str]) -> Any:
    return json.loads(text) if text is not None else None


class Entry(NamedTuple):
    """One line of ``ls``: the absolute path, the element kind (``"server"``
    for a server, None for an empty anchor), and, on a server's line of a
    recursive listing, why its tree is missing (else None). A server's line
    also has its address and state (``"alive"``, ``"suspect"``) as the
    listing server sees it; with ``ls(..., status=True)`` an element's line
    has its kind's status dict (what ``circuit ls -l`` shows: a process's
    Phase and Pid, a channel's Pending and Cap...), else None."""

    path: str
    kind: Optional[str]
    error: Optional[str]
    addr: Optional[str] = None
    state: Optional[str] = None
    status: Optional[Dict[str, Any]] = None


class Reply(NamedTuple):
    """What ``Client.call`` returns: the operation's JSON result (parsed),
    whether it observed a failure (a waited process exited non-zero), and
    its whole output."""

    result: Any
    failed: bool
    output: bytes


class Client:
    """A connection to a circuit, from ``circuit.dial()`` or ``circuit.discover()``.

    A Client may be shared between threads. It keeps a small pool of
    connections to the server it dialed: each call uses one connection by
    itself while it runs, and a stream (a process's stdin, stdout, stderr)
    keeps one for as long as it is open, so a thread blocked on one call
    never holds up another thread; a thread that finds no idle connection
    dials one more (same address, same key, the server's ID checked).

    Use it as a context manager, or call close(); calls in progress on other
    threads finish first.
    """

    def __init__(
        self,
        conn: "_circuit.Conn",
        address: Optional[str],
        key_file: Optional[str],
        timeout: Optional[float],
        call_timeout: Optional[float],
        direct: bool,
    ) -> None:
        self._address = address
        self._key_file = key_file
        self._dial_ms = _ms(timeout)
        self._call_ms = _ms(call_timeout)
        self._direct = bool(direct)
        self._lock = threading.Lock()
        self._closed = False
        conn.set_options(self._call_ms, self._direct)
        self._id: str = conn.server_id
        self._url: str = conn.server_url
        self._idle: List[_circuit.Conn] = [conn]

    def __repr__(self) -> str:
        return f"<circuit.Client {self._url}>"

    @property
    def server_id(self) -> str:
        """The dialed server's ID, ``X`` and 16 hex digits."""
        return self._id

    @property
    def anchor(self) -> str:
        """The dialed server's anchor, ``/X...``."""
        return "/" + self._id

    @property
    def url(self) -> str:
        """The dialed server's URL, ``circuit://HOST:PORT/PID/X...``."""
        return self._url

    # -- the pool ---------------------------------------------------------

    def _take(self) -> "_circuit.Conn":
        with self._lock:
            if self._closed:
                raise ValueError("the client is closed")
            if self._idle:
                return self._idle.pop()
        # Found as the first one was: the same address (or lookup) and key.
        conn = _circuit.Conn(self._address, self._key_file, self._dial_ms)
        if conn.server_id != self._id:
            conn.close()
            raise Unreachable(
                f"{self._url}: the server answering now is /{conn.server_id}: "
                "server restarted or wrong URL",
                "wrong-server",
            )
        conn.set_options(self._call_ms, self._direct)
        return conn

    def _give(self, conn: "_circuit.Conn") -> None:
        if not conn.broken:
            with self._lock:
                if not self._closed and len(self._idle) < POOL_MAX:
                    self._idle.append(conn)
                    return
        conn.close()

    def _run(
        self,
        verb: str,
        path: str,
        args: Sequence[str] = (),
        input: InputLike = None,
        timeout: Optional[float] = None,
        output: bool = True,
    ) -> Tuple[Any, bool, bytes]:
        """One whole operation; returns (result, failed, output)."""
        _check_path(path)
        argv = [_arg(a) for a in args]
        if input is not None and not isinstance(input, (bytes, bytearray, memoryview, str)):
            return self._run_file(verb, path, argv, input, timeout, output)
        if isinstance(input, str):
            input = input.encode()
        conn = self._take()
        try:
            text, failed, out = conn.run(verb, path, argv, input, _seconds(timeout), output)
        finally:
            self._give(conn)
        return _json(text), failed, out

    def _fast(self, verb: str, path: str, input: Optional[bytes], timeout: Optional[float]) -> bytes:
        """_run for a verb without arguments or result (a channel's send and
        recv): the per-message path, kept short. Returns the output."""
        conn = self._take()
        try:
            return conn.run(verb, path, (), input, -1.0 if timeout is None else _seconds(timeout))[2]
        finally:
            self._give(conn)

    def _run_file(
        self,
        verb: str,
        path: str,
        argv: List[str],
        source: IO[bytes],
        timeout: Optional[float],
        output: bool,
    ) -> Tuple[Any, bool, bytes]:
        conn = self._take()
        call = None
        try:
            call = conn.open(verb, path, argv)
            write_from(call, source)
            text, failed = call.reply(_seconds(timeout))
            out = io.BytesIO()
            buf = bytearray(64 * 1024)
            while True:
                n = call.readinto(buf, _seconds(timeout))
                if not n:
                    break
                if output:
                    out.write(memoryview(buf)[:n])
            call.finish()
            return _json(text), failed, out.getvalue()
        finally:
            if call is not None and not call.ended:
                call.close()
            self._give(conn)

    def close(self) -> None:
        """Closes the client's idle connections; open streams close theirs
        when they end."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the tree ---------------------------------------------------------

    def servers(self) -> List[str]:
        """The anchors of the servers the dialed server sees, sorted (``/X...``)."""
        return sorted(e.path for e in self.ls("/") if e.kind in (None, "server"))

    def ls(self, path: str = "/", recursive: bool = False, status: bool = False) -> List[Entry]:
        """The anchors under @path: its children, or with @recursive every
        descendant (``"/"`` recursively: every server's whole tree). With
        @status, each element's entry carries its status (``ls -l``)."""
        _check_path(path)
        conn = self._take()
        try:
            rows = conn.ls(path, bool(recursive), bool(status))
        finally:
            self._give(conn)
        entries = [
            Entry(p, k, e, a, s, json.loads(st) if st is not None else None)
            for p, k, e, a, s, st in rows
        ]
        if path == "/" and not recursive:
            entries.sort()
        return entries

    def peek(self, path: str) -> Dict[str, Any]:
        """The element's (or a server's) description, as a dict."""
        result, _, _ = self._run("peek", path)
        return result if result is not None else {}

    def scrub(self, path: str) -> None:
        """Removes the element at @path and releases what it holds."""
        self._run("scrub", path)

    def call(
        self,
        verb: str,
        path: str,
        *args: Any,
        input: InputLike = None,
        timeout: Optional[float] = None,
        stream: bool = False,
    ) -> Union[Reply, "Stream"]:
        """Any operation of any kind, third parties' included: ``verb`` on
        the element at @path with @args (``"mk<kind>"`` makes one).

        @input is the operation's input (bytes, str, or a binary file read
        to its end). Returns a Reply with the result, the failure flag and
        the whole output; with ``stream=True``, a Stream to read the output
        from as it comes (close it, or use it as a context manager).
        """
        if not isinstance(verb, str) or not verb:
            raise TypeError("verb must be a non-empty str")
        if not stream:
            return Reply(*self._run(verb, path, args, input, timeout))
        _check_path(path)
        argv = [_arg(a) for a in args]
        conn = self._take()
        call = None
        try:
            if isinstance(input, str):
                input = input.encode()
            if input is None or isinstance(input, (bytes, bytearray, memoryview)):
                call = conn.open(verb, path, argv, input)
            else:
                call = conn.open(verb, path, argv)
                write_from(call, input)
            text, failed = call.reply(_seconds(timeout))
        except BaseException:
            if call is not None and not call.ended:
                call.close()
            self._give(conn)
            raise
        return Stream(Output(self, path, verb, call, conn), _json(text), failed)

    # -- making elements -------------------------------------------------

    def _make(self, kind: str, path: str, args: Sequence[str] = (), body: InputLike = None) -> None:
        self._run("mk" + kind, path, args, body)

    def mkproc(
        self,
        anchor: str,
        cmd: str,
        args: Sequence[str] = (),
        env: Union[Mapping[str, str], Sequence[str], None] = None,
        dir: Optional[str] = None,
        scrub: bool = False,
    ) -> "Proc":
        """Runs the program @cmd (the spec's ``Path``) with @args at @anchor.

        @env: a mapping or ``"NAME=value"`` strings (None: the server's
        environment); @dir: the working directory; @scrub: the element goes
        away by itself when the process exits (a wait after that finds none).
        """
        if isinstance(args, str):
            raise TypeError("args must be a sequence of str, not one str")
        spec: Dict[str, Any] = {"Path": cmd, "Args": [_arg(a) for a in args]}
        if env is not None:
            if isinstance(env, Mapping):
                spec["Env"] = [f"{k}={v}" for k, v in env.items()]
            else:
                spec["Env"] = [_arg(e) for e in env]
        if dir is not None:
            spec["Dir"] = dir
        if scrub:
            spec["Scrub"] = True
        self._make("proc", anchor, (), json.dumps(spec))
        return Proc(self, anchor)

    def mkchan(self, anchor: str, cap: int) -> "Chan":
        """Makes a channel holding up to @cap messages (0: unbuffered)."""
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise ValueError("cap must be an int >= 0")
        self._make("chan", anchor, (str(cap),))
        return Chan(self, anchor)

    def mkdns(self, path: str, addr: Optional[str] = None) -> "Dns":
        """Starts a DNS server at @path, listening on @addr (``HOST:PORT``;
        None: the server picks)."""
        self._make("dns", path, () if addr is None else (addr,))
        return Dns(self, path)

    def mkdkr(self, path: str, spec: Union[Mapping[str, Any], str, bytes]) -> "Container":
        """Runs a container at @path from @spec (a dict, or its JSON text)."""
        body = json.dumps(spec) if isinstance(spec, Mapping) else spec
        self._make("dkr", path, (), body)
        return Container(self, path)

    def subscribe_join(self, path: str) -> "Subscription":
        """Makes an ``@join`` feed at @path: iterate over it for the anchor of
        every current server, then of each server that joins."""
        self._make("@join", path)
        return Subscription(self, path)

    def subscribe_leave(self, path: str) -> "Subscription":
        """Makes an ``@leave`` feed at @path: iterate over it for the anchor
        of each server that leaves or dies."""
        self._make("@leave", path)
        return Subscription(self, path)

    # -- handles to existing elements -------------------------------------

    def proc(self, path: str) -> "Proc":
        """A handle to the process at @path (made earlier, maybe by others)."""
        return Proc(self, _check_path(path))

    def chan(self, path: str) -> "Chan":
        """A handle to the channel at @path."""
        return Chan(self, _check_path(path))

    def dns(self, path: str) -> "Dns":
        """A handle to the DNS server at @path."""
        return Dns(self, _check_path(path))

    def container(self, path: str) -> "Container":
        """A handle to the container at @path."""
        return Container(self, _check_path(path))


def _arg(a: Any) -> str:
    if isinstance(a, bool):
        raise TypeError("an argument is a str or a number, not a bool")
    if isinstance(a, (int, float)):
        return str(a)
    if not isinstance(a, str):
        raise TypeError(f"an argument is a str, not {type(a).__name__}")
    return a


class Stream(io.BufferedReader):
    """The output of ``Client.call(..., stream=True)``: a buffered binary
    file (read, readline, iteration) with the operation's ``result`` and
    ``failed`` flag. Closing it before the end leaves the rest with the
    server."""

    def __init__(self, raw: Output, result: Any, failed: bool) -> None:
        super().__init__(raw)
        self.result = result
        self.failed = failed


class Element:
    """A handle to the element at ``path``: peek(), scrub()."""

    def __init__(self, client: Client, path: str) -> None:
        self.client = client
        self.path = path

    def __repr__(self) -> str:
        return f"<circuit.{type(self).__name__} {self.path}>"

    def peek(self) -> Dict[str, Any]:
        """The element's description (as ``circuit peek`` prints it)."""
        return self.client.peek(self.path)

    def scrub(self) -> None:
        """Removes the element and releases what it holds."""
        self.client.scrub(self.path)


class Job(Element):
    """A process or a container: standard streams, wait, signal."""

    _stdin: Optional[Input] = None
    _stdout: Optional[io.BufferedReader] = None
    _stderr: Optional[io.BufferedReader] = None

    @property
    def stdin(self) -> Input:
        """Its standard input, a binary file (unbuffered); close() ends it."""
        if self._stdin is None:
            self._stdin = Input(self.client, self.path, "stdin")
        return self._stdin

    @property
    def stdout(self) -> io.BufferedReader:
        """Its standard output, a buffered binary file; ``stdout.raw.timeout``
        bounds each read."""
        if self._stdout is None:
            self._stdout = io.BufferedReader(Output(self.client, self.path, "stdout"))
        return self._stdout

    @property
    def stderr(self) -> io.BufferedReader:
        """Its standard error, as stdout."""
        if self._stderr is None:
            self._stderr = io.BufferedReader(Output(self.client, self.path, "stderr"))
        return self._stderr

    def wait(self, timeout: Optional[float] = None, check: bool = False) -> Dict[str, Any]:
        """Waits until it exits and returns its status (a dict, as ``peek``).

        With @check, raises circuit.ProcessFailed if it failed; @timeout
        (seconds) raises circuit.Timeout, the wait cancelled on the server.
        """
        status, failed, _ = self.client._run("wait", self.path, (), None, timeout, False)
        status = status if isinstance(status, dict) else {}
        if failed and check:
            raise ProcessFailed(f"{self.path}: {_summary(status)}", "failed", status)
        return status

    def signal(self, sig: Union[str, int]) -> None:
        """Sends @sig (a name like ``"TERM"`` or a number) to its process group."""
        self.client._run("signal", self.path, (str(sig),))

    def close(self) -> None:
        """Closes the streams this handle opened (not the element)."""
        for s in (self._stdin, self._stdout, self._stderr):
            if s is not None:
                s.close()

    def __enter__(self) -> "Job":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _summary(status: Mapping[str, Any]) -> str:
    """What a failed wait says: the signal or the exit code."""
    sig = status.get("Signal")
    if sig:
        return f"killed by {sig}"
    for key in ("ExitCode", "Exit"):
        if key in status:
            return f"exited with {status[key]}"
    return "failed"


class Proc(Job):
    """A process element (``Client.mkproc``)."""


class Container(Job):
    """A container element (``Client.mkdkr``)."""


class Chan(Element):
    """A channel element (``Client.mkchan``); iterating receives until it is
    closed and drained."""

    def send(self, message: Union[Bytes, str, IO[bytes]], timeout: Optional[float] = None) -> None:
        """Sends one message (bytes, str as UTF-8, or a binary file read to
        its end); returns once the channel took it. @timeout withdraws it."""
        if type(message) is bytes:
            self.client._fast("send", self.path, message, timeout)
            return
        if message is None:
            raise TypeError("a message is bytes, str or a binary file")
        self.client._run("send", self.path, (), message, timeout)

    def recv(self, timeout: Optional[float] = None) -> bytes:
        """Receives one message; raises circuit.Closed at the end of a closed
        channel, circuit.Timeout (taking nothing) when @timeout passes."""
        return self.client._fast("recv", self.path, None, timeout)

    def close(self) -> None:
        """Closes the channel for sending; receivers drain what it holds."""
        self.client._run("close", self.path)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                yield self.recv()
            except Closed:
                return


class Dns(Element):
    """A DNS server element (``Client.mkdns``)."""

    def set(self, rr: str) -> None:
        """Adds one resource record, e.g. ``"redis.svc. 60 IN A 10.0.0.2"``."""
        self.client._run("set", self.path, (rr,))

    def unset(self, name: str, type: Optional[str] = None) -> None:
        """Removes every record of @name, or only those of @type."""
        self.client._run("unset", self.path, (name,) if type is None else (name, type))

    def load(self, records: Union[str, Iterable[str]]) -> None:
        """Adds records, one per line or item: all of them, or none."""
        text = records if isinstance(records, str) else "\n".join(records) + "\n"
        self.client._run("load", self.path, (), text)


class Subscription(Element):
    """An ``@join`` or ``@leave`` feed: iterating yields server anchors
    (``/X...``) as they come; close() (or leaving a ``with`` block) scrubs
    the feed."""

    def recv(self, timeout: Optional[float] = None) -> str:
        """The next event: one server's anchor."""
        out = self.client._run("recv", self.path, (), None, timeout)[2]
        return out.decode().strip()

    def __iter__(self) -> Iterator[str]:
        while True:
            try:
                yield self.recv()
            except Closed:
                return

    def close(self) -> None:
        """Scrubs the feed."""
        self.client.scrub(self.path)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# -- dialing ------------------------------------------------------------------


def discover_url(addr: str, key_file: Optional[str] = None, timeout: Optional[float] = None) -> str:
    """Asks the multicast group @addr (``"228.8.8.8:7711"``) for a server
    started with ``--discover`` and returns the URL of the first that
    answers. An unsealed answer (an unkeyed group) is warned about with
    circuit.UnauthenticatedWarning."""
    key = key_file or os.environ.get("CIRCUIT_HMAC") or None
    url, authenticated = _circuit.discover(addr, key, _ms(timeout))
    if not authenticated:
        warnings.warn(
            f"the answer on {addr} ({url}) is unauthenticated: with no key, anyone on that "
            "network could have sent it (give key_file)",
            UnauthenticatedWarning,
            stacklevel=3,
        )
    return url


def dial(
    url: Optional[str] = None,
    key_file: Optional[str] = None,
    timeout: Optional[float] = None,
    *,
    call_timeout: Optional[float] = None,
    direct: bool = True,
) -> Client:
    """Connects to a circuit server and returns a Client.

    @url: a circuit URL ``circuit://HOST:PORT/PID/X...`` (the server's ID is
    checked), ``HOST:PORT``, or a unix socket path. None finds one as the
    CLI does: ``$CIRCUIT_DISCOVER`` (multicast), else the file named by
    ``$CIRCUIT``, else ``~/.circuit``, else the local socket, else
    ``127.0.0.1:11022``.
    @key_file: the cluster's key file (None: ``$CIRCUIT_HMAC``, else unkeyed).
    @timeout: the connect timeout in seconds (None: 5 s).
    @call_timeout: a deadline for every call, in seconds: when it passes the
    call is cancelled on the server and raises circuit.Timeout.
    @direct: whether calls for other servers may go straight to them.
    """
    if url is None:
        group = os.environ.get("CIRCUIT_DISCOVER")
        if group:
            url = discover_url(group, key_file, None)
    conn = _circuit.Conn(url, key_file, _ms(timeout))
    return Client(conn, url, key_file, timeout, call_timeout, direct)


def discover(
    addr: str,
    key_file: Optional[str] = None,
    timeout: Optional[float] = None,
    *,
    call_timeout: Optional[float] = None,
    direct: bool = True,
) -> Client:
    """Finds a server by multicast (``discover_url``) and dials it."""
    return dial(
        discover_url(addr, key_file, timeout),
        key_file,
        timeout,
        call_timeout=call_timeout,
        direct=direct,
    )
