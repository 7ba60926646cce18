# SPDX-License-Identifier: Apache-2.0
"""circuit: run, watch and wire together processes on any host of a circuit.

A thin Python layer over libcircuit, the C client library the ``circuit``
command is built on (the ``_circuit`` extension module): the same calls,
the same lookup of the server, the same error classes as the CLI's exit
codes. Example::

    import circuit, shutil, sys

    with circuit.dial() as c:              # $CIRCUIT_DISCOVER, $CIRCUIT, ~/.circuit, ...
        server = c.servers()[0]            # "/X88550014d4c82e4d"
        p = c.mkproc(server + "/job", "/usr/bin/tr", ["a-z", "A-Z"])
        p.stdin.write(b"hello\\n")
        p.stdin.close()
        shutil.copyfileobj(p.stdout, sys.stdout.buffer)
        print(p.wait(check=True))         # {"ExitCode": 0, ...}
        p.scrub()

Calls block with the GIL released and can be interrupted (Ctrl-C cancels
the call on the server); a Client may be shared between threads. Errors
raise circuit.Error or one of its subclasses UsageError, Unreachable,
Closed, ProcessFailed, Timeout, with the server's one-line message.
See docs/python.md.
"""
from ._client import (
    Chan,
    Client,
    Container,
    Dns,
    Element,
    Entry,
    Job,
    Proc,
    Reply,
    Stream,
    Subscription,
    dial,
    discover,
    discover_url,
)
from ._circuit import keygen
from ._errors import (
    Closed,
    Error,
    ProcessFailed,
    Timeout,
    UnauthenticatedWarning,
    Unreachable,
    UsageError,
)

__all__ = [
    "Chan",
    "Client",
    "Closed",
    "Container",
    "Dns",
    "Element",
    "Entry",
    "Error",
    "Job",
    "Proc",
    "ProcessFailed",
    "Reply",
    "Stream",
    "Subscription",
    "Timeout",
    "UnauthenticatedWarning",
    "Unreachable",
    "UsageError",
    "dial",
    "discover",
    "discover_url",
    "keygen",
]
