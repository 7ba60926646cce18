#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Stream limits per client, not per server-to-server link (issue 15,
# finding 2): see relay_limits.py.
source "$CIRCUIT_TESTLIB"
start_server --plugins=proc,chan
B=$SERVER_ID B_URL=$SERVER_URL
start_server --plugins=proc,chan -j "$B_URL"
A_PORT=${SERVER_URL#circuit://127.0.0.1:}
A_PORT=${A_PORT%%/*}
wait_true 10 '[ "$(c ls / | wc -l)" = 2 ]'
c mkchan /$B/q 0
echo '{"Path":"/bin/sh","Args":["-c","for i in $(seq 1 3000); do echo tick; sleep 0.02; done"]}' |
	c mkproc /$B/talker
python3 "$CIRCUIT_SOURCE_DIR/tests/integration/relay_limits.py" "$A_PORT" "$B" 1024
server_alive
c peek /$B/q >/dev/null || fail "the relay link broke"
ok "4,100 relayed streams do not break the link; a client over its quota is refused per stream"
