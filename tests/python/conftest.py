# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the Python binding's tests: real circuitd processes on
127.0.0.1, started by the test and stopped by PID when it ends, even when it
fails (run through ctest: tests/python/CMakeLists.txt sets the paths)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Iterator, List, Optional

import pytest

import circuit

CIRCUITD = os.environ.get("CIRCUITD_BIN", "")
PLUGIN_DIR = os.environ.get("CIRCUIT_PLUGIN_DIR", "")
COUNTER_SO = os.environ.get("CIRCUIT_COUNTER_SO", "")

# The binding must never find a user's ~/.circuit, $CIRCUIT or key by accident.
for var in ("CIRCUIT", "CIRCUIT_DISCOVER", "CIRCUIT_HMAC", "CIRCUIT_SOCKET"):
    os.environ.pop(var, None)


class Server:
    """One circuitd started by a test."""

    def __init__(self, proc: subprocess.Popen, url: str, log: str) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.url = url
        self.id = url.rsplit("/", 1)[1]
        self.anchor = "/" + self.id
        self.log = log

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stops it by PID: @sig, up to 5 s, then SIGKILL."""
        if self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(sig)
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def alive(self) -> bool:
        """Whether it still serves (a fresh connection lists it)."""
        with circuit.dial(self.url, key_file=getattr(self, "key_file", None)) as c:
            return self.anchor in c.servers()


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="circuit-pytest.")
    os.environ["HOME"] = os.path.join(d, "home")
    os.makedirs(os.environ["HOME"])
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def start_server(tmp_root: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., Server]]:
    """start_server(*flags, plugins=None, key_file=None) -> Server; every
    server started is stopped by PID at the end, pass or fail."""
    if not CIRCUITD:
        pytest.skip("CIRCUITD_BIN is not set: run through ctest")
    started: List[Server] = []

    def start(*flags: str, extra_plugins: Optional[List[str]] = None,
              key_file: Optional[str] = None) -> Server:
        n = len(started) + 1
        base = os.path.join(tmp_root, f"{request.node.name}-{n}")
        args = [CIRCUITD, "-a", "127.0.0.1:0", *flags]
        if key_file:
            args += ["--hmac", key_file]
        if extra_plugins:
            pdir = base + ".plugins"
            os.makedirs(pdir)
            for so in os.listdir(PLUGIN_DIR):
                if so.endswith(".so"):
                    os.symlink(os.path.join(PLUGIN_DIR, so), os.path.join(pdir, so))
            for so in extra_plugins:
                os.symlink(so, os.path.join(pdir, os.path.basename(so)))
            args += ["--plugin-dir", pdir]
        log = base + ".log"
        with open(base + ".url", "w") as out, open(log, "w") as err:
            proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        url = ""
        while time.monotonic() < deadline:
            with open(base + ".url") as f:
                url = f.readline().strip()
            if url.startswith("circuit://"):
                break
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        server = Server(proc, url, log)
        server.key_file = key_file  # type: ignore[attr-defined]
        started.append(server)
        if not url.startswith("circuit://"):
            with open(log) as f:
                raise RuntimeError(f"circuitd printed no URL: {f.read()[-2000:]}")
        return server

    yield start
    failed = getattr(request.node, "rep_call", None)
    for s in started:
        s.stop()
        if failed is not None and failed.failed:
            with open(s.log) as f:
                print(f"== {s.log}\n" + "".join(f.readlines()[-30:]))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    return start_server()


@pytest.fixture
def client(server: Server) -> Iterator[circuit.Client]:
    with circuit.dial(server.url) as c:
        yield c


def handoff(ch: circuit.Chan, message: bytes) -> List[bytes]:
    """Sends @message on @ch while another thread receives; what it got."""
    got: List[bytes] = []
    t = threading.Thread(target=lambda: got.append(ch.recv(timeout=10)))
    t.start()
    ch.send(message, timeout=10)
    t.join()
    return got


def interrupted(url: str, statement: str) -> str:
    """Runs @statement on a Client ``c`` dialed to @url in a fresh
    interpreter, sends it SIGINT once it is blocked, and returns what it
    printed: "interrupted" when KeyboardInterrupt came out of the call."""
    script = (
        "import circuit\n"
        f"c = circuit.dial({url!r})\n"
        "print('ready', flush=True)\n"
        "try:\n"
        f"    {statement}\n"
        "    print('returned', flush=True)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # the call is open and blocked on the server
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        return out.strip()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
