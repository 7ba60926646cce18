#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""twotier.py [-d URL] [--port PORT]: a two-tier service over a circuit: a
redis-server on one server, a DNS element on another that names it
(redis.svc.), and a client workload on a third that finds redis through
that DNS element, stores a value and reads it back. Prints what the client
read, then tears everything down."""
from __future__ import annotations

import argparse
import os
import sys
import uuid

import circuit

# The client workload (sent as the text of `sh -c`): resolve redis.svc. at
# the DNS element, wait until redis answers, then SET and GET through it.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "twotier-client.sh")) as f:
    CLIENT = f.read()


def host_of(c: circuit.Client, anchor: str) -> str:
    """The address a server listens on (its peek's Addr, without the port)."""
    return c.peek(anchor)["Addr"].rsplit(":", 1)[0].strip("[]")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-d", "--dial", help="a server's URL (default: found as the CLI does)")
    ap.add_argument("--port", type=int, default=6379, help="redis's port (default 6379)")
    a = ap.parse_args()
    run = uuid.uuid4().hex[:8]
    with circuit.dial(a.dial) as c:
        servers = c.servers()
        tier = [servers[i % len(servers)] for i in range(3)]  # redis, dns, client
        made = []
        try:
            redis_host = host_of(c, tier[0])
            # Bound to the server's address, for clients on other hosts:
            # redis's protected mode (loopback only, without a password) off.
            redis = c.mkproc(f"{tier[0]}/twotier-{run}/redis", "/usr/bin/redis-server",
                             ["--bind", redis_host, "--port", str(a.port), "--protected-mode",
                              "no", "--save", "", "--appendonly", "no"])
            made.append(redis)
            print(f"redis on {tier[0]} at {redis_host}:{a.port}", file=sys.stderr)
            dns = c.mkdns(f"{tier[1]}/twotier-{run}/dns")
            made.append(dns)
            dns.set(f"redis.svc. 60 IN A {redis_host}")
            dns_host, dns_port = dns.peek()["Address"].rsplit(":", 1)
            print(f"dns on {tier[1]} at {dns_host}:{dns_port}", file=sys.stderr)
            client = c.mkproc(f"{tier[2]}/twotier-{run}/client", "/bin/sh", ["-c", CLIENT],
                              env={"PATH": "/usr/bin:/bin", "DNS_HOST": dns_host,
                                   "DNS_PORT": dns_port, "REDIS_PORT": str(a.port)})
            made.append(client)
            print(f"client on {tier[2]}", file=sys.stderr)
            sys.stdout.buffer.write(client.stdout.read())
            sys.stderr.buffer.write(client.stderr.read())
            status = client.wait()
            ok = status.get("ExitCode") == 0
        finally:
            # Client first, then the name, then the service.
            for element in reversed(made):
                element.scrub()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
