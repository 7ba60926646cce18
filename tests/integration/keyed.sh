#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Keyed servers and clients (--hmac / -hmac / $CIRCUIT_HMAC): Noise_NNpsk0
# connections, clear refusals both ways, key rotation, half-open floods.
source "$CIRCUIT_TESTLIB"

"$CIRCUIT_BIN" keygen "$T_TMP/k1"
"$CIRCUIT_BIN" keygen "$T_TMP/k2"
chmod 600 "$T_TMP/k1" "$T_TMP/k2"
[ "$(wc -c <"$T_TMP/k1")" = 45 ] || fail "keygen should print 44 base64 characters and a newline"
[ "$(base64 -d <"$T_TMP/k1" | wc -c)" = 32 ] || fail "a key is 32 bytes"
! cmp -s "$T_TMP/k1" "$T_TMP/k2" || fail "two keys are the same"
ok "keygen: 256-bit keys in base64"

start_server --hmac "$T_TMP/k1"
X=$SERVER_ID
keyed() { "$CIRCUIT_BIN" -d "$SERVER_URL" -hmac "$T_TMP/k1" "$@"; }
keyed ls / | grep -q "/$X" || fail "keyed ls"
echo '{"Path":"/bin/cat"}' | keyed mkproc /$X/cat
seq 1 100000 | keyed stdin /$X/cat
keyed stdout /$X/cat | cmp - <(seq 1 100000) || fail "keyed stdin/stdout"
keyed wait /$X/cat >/dev/null
CIRCUIT_HMAC="$T_TMP/k1" "$CIRCUIT_BIN" -d "$SERVER_URL" peek /$X/cat >/dev/null || fail "\$CIRCUIT_HMAC"
ok "keyed server and client: a process end to end"

expect_fail 2 "server requires a key" c ls /
expect_fail 2 "wrong key" "$CIRCUIT_BIN" -d "$SERVER_URL" -hmac "$T_TMP/k2" ls /
wait_until 5 grep -q "refused: server requires a key" "$SERVER_LOG"
wait_until 5 grep -q "refused: wrong key" "$SERVER_LOG"
ok "unkeyed and wrong-key clients are refused, clearly, on both sides"

# Nothing secret in the log or in peek.
key=$(tr -d '\n' <"$T_TMP/k1")
! grep -qF "$key" "$SERVER_LOG" || fail "the key is in the server log"
! keyed peek /$X | grep -qF "$key" || fail "the key is in peek"
ok "no key material in logs or peek"

# A half-open flood (connections that never finish the handshake) does not
# keep a key holder out; the server drops the oldest beyond its cap.
PORT=${SERVER_URL#circuit://127.0.0.1:}
PORT=${PORT%%/*}
# 1,000 connections that send the keyed preamble and nothing more, held
# open by one process (stopped by PID) while a key holder connects.
python3 - "$PORT" "$T_TMP/flood.ready" <<'PY' &
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
socks = []
for _ in range(1000):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"CIRC\x01\x01\x00\x00")
    socks.append(s)
open(sys.argv[2], "w").write("%d\n" % len(socks))
time.sleep(60)
PY
FLOOD=$!
t_track $FLOOD
wait_until 30 test -s "$T_TMP/flood.ready"
keyed ls / | grep -q "/$X" || fail "a key holder was kept out by half-open connections"
kill $FLOOD
wait $FLOOD 2>/dev/null || true
ok "1,000 unfinished handshakes do not keep a key holder out"

# An unfinished handshake is dropped after a few seconds.
exec {slow}<>"/dev/tcp/127.0.0.1/$PORT"
printf 'CIRC\001\001\000\000' >&$slow
start=$SECONDS
timeout 15 cat <&$slow >/dev/null || fail "the half-open connection was not closed"
[ $((SECONDS - start)) -le 10 ] || fail "handshake timeout too long"
exec {slow}>&-
ok "unfinished handshakes time out"

# A keyed client to an unkeyed server.
url1=$SERVER_URL
start_server
expect_fail 2 "server is not keyed" "$CIRCUIT_BIN" -d "$SERVER_URL" -hmac "$T_TMP/k1" ls /
ok "a keyed client is told the server is not keyed"

# Rotation: a server accepts every key of its file and dials with the first;
# clients move one at a time.
cat "$T_TMP/k2" "$T_TMP/k1" >"$T_TMP/both"
chmod 600 "$T_TMP/both"
start_server --hmac "$T_TMP/both"
"$CIRCUIT_BIN" -d "$SERVER_URL" -hmac "$T_TMP/k1" ls / >/dev/null || fail "old key refused during rotation"
"$CIRCUIT_BIN" -d "$SERVER_URL" -hmac "$T_TMP/k2" ls / >/dev/null || fail "new key refused during rotation"
"$CIRCUIT_BIN" -d "$SERVER_URL" -hmac "$T_TMP/both" ls / >/dev/null || fail "a client with both keys"
ok "key rotation: old and new keys accepted together"

# A key file others can read or write is refused with the fix (as OpenSSH
# refuses such a private key), by the client and by the server; a bad one is
# refused.
chmod 644 "$T_TMP/k1"
expect_fail 2 "key file $T_TMP/k1 is readable by group or others (mode 0644): run chmod 600 $T_TMP/k1" \
	"$CIRCUIT_BIN" -d "$url1" -hmac "$T_TMP/k1" ls /
expect_fail 2 "readable by group or others" "$CIRCUITD_BIN" -a 127.0.0.1:0 --hmac "$T_TMP/k1"
chmod 620 "$T_TMP/k1"
expect_fail 2 "writable by group or others (mode 0620)" "$CIRCUIT_BIN" -d "$url1" -hmac "$T_TMP/k1" ls /
chmod 600 "$T_TMP/k1"
echo "not base64!" >"$T_TMP/bad"
expect_fail 2 "$T_TMP/bad" "$CIRCUIT_BIN" -d "$url1" -hmac "$T_TMP/bad" ls /
expect_fail 2 "$T_TMP/bad" "$CIRCUITD_BIN" -a 127.0.0.1:0 --hmac "$T_TMP/bad"
expect_fail 2 "/nonexistent" "$CIRCUITD_BIN" -a 127.0.0.1:0 --hmac /nonexistent
ok "key files open to group or others, and bad ones, are refused in one line"
