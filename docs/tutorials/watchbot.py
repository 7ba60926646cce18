#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""watchbot.py: a self-perpetuating watchdog that hops around a circuit.

    watchbot.py [-d URL] start [--name NAME] [--seconds S] [--report CHAN]
    watchbot.py [-d URL] stop [--name NAME] [--report CHAN]

A watchbot is a pair of processes. The nucleus, on one server, starts the
payload (here `sleep S`) on another and waits for it; when the payload ends
(or its server dies), the nucleus starts a new nucleus on a third server
and exits, and the new one starts a new payload: the pair hops around the
cluster for ever. The payload process runs the work (a child `sleep`) and
watches the nucleus in turn: when the nucleus's server dies, it starts the next
nucleus itself. Anchors are numbered by epoch, /X.../NAME/EPOCH/nucleus
and /X.../NAME/EPOCH/payload, so each generation has names of its own.

With `--report CHAN` (the watchbot with a back channel) every nucleus
reports its payload's end on the channel CHAN (made unbuffered if it is
not there) before it hops, blocking until someone receives the report
(`circuit recv CHAN`, or iterating over the channel from Python): the bot
moves on only as fast as its reports are read. (While a nucleus waits
there, its payload has ended: the death of the nucleus's own server then
ends the bot.)

`stop` puts a stop mark (/X.../NAME/stop, an empty channel) on every
server, ends the current payloads, waits until no nucleus or payload is
left, and removes the marks. The processes run this same file with the
interpreter that started it: on a real cluster install python3-circuit and
this script at the same path on every host.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from typing import List, Optional

import circuit

SCRIPT = os.path.abspath(__file__)
#: The back channel (--report), passed on to every process of the bot.
REPORT: Optional[str] = None


def env() -> dict:
    """The environment of the bot's processes: where circuit is found."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(circuit.__file__)))
    out = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": here}
    # A sanitizer build's binding needs its runtime preloaded, here as there.
    for var in ("LD_PRELOAD", "ASAN_OPTIONS"):
        if var in os.environ:
            out[var] = os.environ[var]
    return out


def stopped(c: circuit.Client, name: str) -> bool:
    """Whether a stop mark is on the dialed server."""
    try:
        return any(e.path.endswith("/stop") for e in c.ls(f"{c.anchor}/{name}"))
    except circuit.Error:
        return False


def spawn_on(c: circuit.Client, avoid: List[str], name: str, epoch: int, role: str,
             args: List[str]) -> Optional[str]:
    """Starts this script as @role of @epoch (with @args) on a server not in
    @avoid, if any other is left, trying the others in turn when one fails
    (a server that just died may still be listed); returns the path, or None
    when that element was started already."""
    servers = c.servers()
    choice = [s for s in servers if s not in avoid] or servers
    random.shuffle(choice)
    error: Optional[Exception] = None
    for where in choice:
        path = f"{where}/{name}/{epoch}/{role}"
        try:
            url = c.peek(where)["URL"]
            c.mkproc(path, sys.executable,
                     [SCRIPT, "-d", url, role, "--name", name, "--epoch", str(epoch), *args,
                      *(["--report", REPORT] if REPORT else [])],
                     env=env(), scrub=True)
            return path
        except circuit.Error as e:
            if e.code == "exists":
                return None
            error = e
    raise error if error else circuit.Unreachable("no server to run on", "unavailable")


def spawn_nucleus(c: circuit.Client, name: str, epoch: int, seconds: float,
                  avoid: List[str]) -> Optional[str]:
    """Starts the nucleus of @epoch on a server not in @avoid, and stays
    until it has started its payload: a successor whose server dies before
    that is started again elsewhere, so the bot never ends in the handover."""
    avoid = list(avoid)
    while not stopped(c, name):
        path = spawn_on(c, avoid, name, epoch, "nucleus", ["--seconds", str(seconds)])
        if path is None:
            return None  # someone else started this epoch
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            elements = bot_elements(c, name)
            # Its payload, or a later epoch already: handed over.
            if any(p.endswith(f"/{name}/{epoch}/payload") or int(p.split("/")[3]) > epoch
                   for p in elements):
                return path
            if path not in elements:
                break  # gone before its payload started: again, elsewhere
            time.sleep(0.1)
        avoid.append("/" + path.split("/")[1])
    return None


def nucleus(c: circuit.Client, name: str, epoch: int, seconds: float) -> int:
    """Starts this epoch's payload on another server and waits for it; then
    hands over to the next epoch's nucleus elsewhere."""
    me = f"{c.anchor}/{name}/{epoch}/nucleus"
    if stopped(c, name):
        return 0
    payload = spawn_on(c, [c.anchor], name, epoch, "payload",
                       ["--seconds", str(seconds), "--nucleus", me])
    if payload is None:
        return 0
    try:
        status = c.proc(payload).wait()
        outcome = f"exited {status.get('ExitCode')}"
    except circuit.Error as e:
        outcome = f"lost ({e})"  # its server died or it was scrubbed: hop all the same
    try:
        c.scrub(payload)
    except circuit.Error:
        pass
    # The report first: the bot goes on only once someone has taken it.
    if REPORT:
        report(c, name, f"epoch {epoch}: payload {payload} {outcome}")
    if not stopped(c, name):
        spawn_nucleus(c, name, epoch + 1, seconds, [c.anchor, "/" + payload.split("/")[1]])
    return 0


def report(c: circuit.Client, name: str, text: str) -> None:
    """Sends @text on the back channel, waiting until someone receives it
    (or the bot is stopped, or the channel is gone)."""
    while not stopped(c, name):
        try:
            c.chan(REPORT).send(text, timeout=1)
            return
        except circuit.Timeout:
            continue
        except circuit.Error:
            return


def payload(c: circuit.Client, name: str, epoch: int, seconds: float, nucleus_path: str) -> int:
    """Runs the payload, and watches the nucleus: if the nucleus's server
    goes, starts the next nucleus itself."""
    child = subprocess.Popen(["/bin/sleep", f"{seconds:g}"])
    lost = threading.Event()

    def watch() -> None:
        # The nucleus ends its payload (this process) before it exits, so
        # its wait ending first means it is gone: its server died, or it
        # failed. Either way, the next nucleus is this process's to start.
        try:
            c.proc(nucleus_path).wait()
        except circuit.Error:
            pass
        lost.set()
        child.terminate()

    threading.Thread(target=watch, daemon=True).start()
    rc = child.wait()
    if lost.is_set() and not stopped(c, name):
        spawn_nucleus(c, name, epoch + 1, seconds, ["/" + nucleus_path.split("/")[1]])
    return 0 if lost.is_set() else rc


def bot_elements(c: circuit.Client, name: str) -> List[str]:
    """The bot's nucleus and payload elements on every server."""
    out = []
    for s in c.servers():
        try:
            entries = c.ls(f"{s}/{name}", recursive=True)
        except circuit.Error:
            continue
        out += [e.path for e in entries if e.kind == "proc"]
    return out


def stop(c: circuit.Client, name: str, timeout: float = 60) -> int:
    """Marks the bot stopped on every server, ends its payloads, waits until
    nothing of it is left, and removes the marks (and the back channel)."""
    marks = []
    for s in c.servers():
        marks.append(c.mkchan(f"{s}/{name}/stop", 0))
    deadline = time.monotonic() + timeout
    left = bot_elements(c, name)
    while left and time.monotonic() < deadline:
        for path in left:
            if path.endswith("/payload"):
                try:
                    c.scrub(path)
                except circuit.Error:
                    pass
        time.sleep(0.2)
        left = bot_elements(c, name)
    for m in marks:
        m.scrub()
    if REPORT:
        try:
            c.scrub(REPORT)
        except circuit.Error:
            pass
    if left:
        print(f"still running: {' '.join(left)}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-d", "--dial", help="a server's URL (default: found as the CLI does)")
    sub = ap.add_subparsers(dest="command", required=True)
    for cmd in ("start", "stop", "nucleus", "payload"):
        p = sub.add_parser(cmd)
        p.add_argument("--name", default="watchbot")
        p.add_argument("--seconds", type=float, default=5.0)
        p.add_argument("--epoch", type=int, default=0)
        p.add_argument("--nucleus")
        p.add_argument("--report", help="the back channel's path")
    a = ap.parse_args()
    global REPORT
    REPORT = a.report
    with circuit.dial(a.dial) as c:
        if a.command == "start":
            if REPORT:
                try:
                    c.mkchan(REPORT, 0)
                except circuit.Error as e:
                    if e.code != "exists":
                        raise
            path = spawn_nucleus(c, a.name, a.epoch, a.seconds, [])
            print(path or "started already")
            return 0
        if a.command == "stop":
            return stop(c, a.name)
        if a.command == "nucleus":
            return nucleus(c, a.name, a.epoch, a.seconds)
        return payload(c, a.name, a.epoch, a.seconds, a.nucleus)


if __name__ == "__main__":
    sys.exit(main())
