#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_scrub: scrub closes the sockets at once, open TCP connections
# included: the same port can be bound again immediately, and the old
# element no longer answers.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

start_server
P=/$SERVER_ID/dns
port=$(free_port)
dns_mk "$P" 127.0.0.1:$port
c set "$P" "a.example. 60 IN A 192.0.2.1"
expect_eq "before" "$(q +short a.example A)" "192.0.2.1"

# Hold a TCP connection open across the scrub.
python3 - "$port" >"$T_TMP/holder.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
s.settimeout(20)
try:
    data = s.recv(1)
    print("closed" if data == b"" else "data", flush=True)
except Exception as e:
    print("error", e, flush=True)
PY
holder=$!
t_track "$holder"
wait_until 5 grep -q connected "$T_TMP/holder.out"

c scrub "$P"
# Rebind at once, UDP and TCP, with no pause.
python3 - "$port" <<'PY' || fail "port not free right after scrub"
import socket, sys
port = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", port))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", port))
t.listen()
PY
wait_until 5 grep -q closed "$T_TMP/holder.out"
ok "port $port free right after scrub; the open TCP connection was closed"

# The old element is gone: nothing answers there.
if q +short a.example A >/dev/null 2>&1; then fail "scrubbed element still answers"; fi
# A new element takes the same port at once.
dns_mk "$P" 127.0.0.1:$port
c set "$P" "a.example. 60 IN A 192.0.2.2"
expect_eq "after" "$(q +short a.example A)" "192.0.2.2"
c scrub "$P"
dns_mk "$P" 127.0.0.1:$port
c scrub "$P"
ok "mkdns on the same port right after scrub"
server_alive
