#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input: each gets one clear line and a non-zero exit, and the server
# keeps serving everyone else.
source "$CIRCUIT_TESTLIB"
start_server
X=$SERVER_ID
PORT=${SERVER_URL#circuit://127.0.0.1:}
PORT=${PORT%%/*}

# A long-lived process that must survive everything below.
echo '{"Path":"/bin/cat"}' | c mkproc /$X/witness

mkp() { echo "$2" | c mkproc "$1"; }
expect_fail 2 "not valid JSON" mkp /$X/a '{"Path": '
expect_fail 2 "must be a JSON object" mkp /$X/a '[1,2]'
expect_fail 2 '"Path" is missing' mkp /$X/a '{"Args":["x"]}'
expect_fail 2 'unknown key "Bogus"' mkp /$X/a '{"Path":"/bin/true","Bogus":1}'
expect_fail 2 '"Args" must be an array of strings' mkp /$X/a '{"Path":"/bin/true","Args":"x"}'
expect_fail 2 'cannot run "/no/such/binary"' mkp /$X/a '{"Path":"/no/such/binary"}'
expect_fail 2 'cannot run "/etc/passwd"' mkp /$X/a '{"Path":"/etc/passwd"}'
expect_fail 2 'Dir "/no/such/dir" is not a directory' mkp /$X/a '{"Path":"/bin/true","Dir":"/no/such/dir"}'
expect_fail 2 "no process spec" c mkproc /$X/a </dev/null
[ -z "$(c ls /$X | grep '/a$')" ] || fail "a failed mkproc left an anchor behind"
ok "bad specs are refused and leave nothing behind"

long=$(printf 'x%.0s' $(seq 1 300))
expect_fail 2 "empty anchor name" mkp "/$X//a" '{"Path":"/bin/true"}'
expect_fail 2 'is reserved' mkp "/$X/../a" '{"Path":"/bin/true"}'
expect_fail 2 'is reserved' mkp "/$X/./a" '{"Path":"/bin/true"}'
expect_fail 2 "forbidden byte 0x01" mkp "/$X/a$(printf '\001')b" '{"Path":"/bin/true"}'
expect_fail 2 "forbidden byte 0x1b" mkp "/$X/a$(printf '\033')b" '{"Path":"/bin/true"}'
expect_fail 2 "longer than 255" mkp "/$X/$long" '{"Path":"/bin/true"}'
expect_fail 2 "is not a server" c peek /notaserver/a
expect_fail 3 "no such server X0123456789abcdef" c peek /X0123456789abcdef/a
expect_fail 2 "no PATH given" c peek relative/path
ok "bad anchor names"

# Operations on the wrong thing.
echo '{"Path":"/bin/sleep","Args":["100"]}' | c mkproc /$X/dir/p
expect_fail 1 "no element at /$X/dir" c peek /$X/dir
expect_fail 1 "no element at /$X/nothing" c wait /$X/nothing
expect_fail 1 "has no operation \"send\"" c send /$X/dir/p
expect_fail 1 "already holds a proc element" mkp /$X/dir/p '{"Path":"/bin/true"}'
expect_fail 1 "unknown element kind \"bogus\"" c mkbogus /$X/b
expect_fail 2 "wrong number of arguments" c signal /$X/dir/p
expect_fail 2 "unexpected argument extra" c wait /$X/dir/p extra
expect_fail 2 'unexpected argument "-bogus"' c mkproc -bogus /$X/q
expect_fail 2 "is a server" c scrub /$X
ok "operations on empty anchors, wrong kinds and occupied anchors"

# Unreachable server, wrong URL.
expect_fail 3 "cannot reach a circuit server" "$CIRCUIT_BIN" -d 127.0.0.1:1 ls /
expect_fail 3 "server restarted or wrong URL" "$CIRCUIT_BIN" -d "circuit://127.0.0.1:$PORT/1/X0000000000000000" ls /
expect_fail 2 "needs a value" "$CIRCUIT_BIN" ls / -d
ok "unreachable and wrong servers"

# Raw abuse of the port: garbage, oversize frames, half-open connections.
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET / HTTP/1.0\r\n\r\n' >&5
exec 5>&-
# A valid preamble and a header announcing a 2 GiB HELLO.
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
printf 'CIRC\001\000\000\000\177\377\377\377\001\000\000\000\000\000\000\000' >&5
exec 5>&-
# A valid handshake, then an oversize OPEN frame (over 1 MiB).
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
printf 'CIRC\001\000\000\000' >&5
hello='{"version":1}'
printf '\000\000\000\015\001\000\000\000\000\000\000\000%s' "$hello" >&5
printf '\000\040\000\000\002\000\000\000\000\000\000\001' >&5
exec 5>&-
# Half-open connections that never finish the handshake.
for i in $(seq 1 20); do exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"; printf 'CI' >&$fd; half+=($fd); done
head -c 100000 /dev/urandom >"$T_TMP/garbage"
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
cat "$T_TMP/garbage" >&5 2>/dev/null || true
exec 5>&-
server_alive
c peek /$X/witness | grep -q '"Phase" : "running"' || fail "the witness process was disturbed"
for fd in "${half[@]}"; do exec {fd}>&-; done
ok "garbage, oversize frames and half-open connections"

echo hello | c stdin /$X/witness
[ "$(c stdout /$X/witness)" = hello ] || fail "the server lost state"
ok "the server kept serving throughout"
