#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No engine: the server starts without the docker kind, says why, and mkdkr
# fails with exactly that reason. Needs no engine, so it never skips.
source "$CIRCUIT_TESTLIB"

start_server --docker --docker-host "unix://$T_TMP/nothing.sock"
X=$SERVER_ID
grep -q "plugin docker: the engine at $T_TMP/nothing.sock did not answer" "$SERVER_LOG" ||
	{ cat "$SERVER_LOG"; fail "the server should say why docker is unavailable"; }
expect_fail 3 "kind docker is unavailable on this server: the engine at $T_TMP/nothing.sock did not answer" \
	bash -c "echo '{\"Image\":\"x\"}' | '$CIRCUIT_BIN' -d '$SERVER_URL' mkdocker /$X/d"
c peek /$X | grep -q '"docker" : "the engine at' || fail "peek of the server should list docker as unavailable"
echo '{"Path":"/bin/true"}' | c mkproc /$X/p
ok "unreachable engine: the server runs without docker and says why"

# A tcp:// engine is a bad docker.host: circuitd does not start (issue 20).
expect_fail 2 'circuitd: --plugin-option docker.host=tcp://127.0.0.1:2375: docker host "tcp://127.0.0.1:2375": only unix:///path sockets are supported' \
	timeout 20 "$CIRCUITD_BIN" -a 127.0.0.1:0 --docker --docker-host tcp://127.0.0.1:2375
ok "a tcp:// engine is refused clearly, at start"

# A socket that answers, but not as an engine.
python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept(); c.recv(4096)
    c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot here\n"); c.close()' "$T_TMP/fake.sock" &
t_track $!
wait_until 10 test -S "$T_TMP/fake.sock"
start_server --docker --docker-host "unix://$T_TMP/fake.sock"
grep -q 'plugin docker: GET /version: not here' "$SERVER_LOG" || { cat "$SERVER_LOG"; fail "a non-engine should be reported"; }
ok "a socket that is no engine is reported"
