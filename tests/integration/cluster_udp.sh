#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Membership over UDP against bad input, on 127.0.0.1 only: garbage,
# truncated and maximum-size datagrams and beacons are dropped and counted
# (plaintext and sealed); -j with a wrong ID and an unreachable seed are
# logged and retried, never fatal; bad tuning flags are refused; a leaving
# or killed server drops out of the others' view.
source "$CIRCUIT_TESTLIB"

# rejected URL REASON: one per-reason counter of DatagramsRejectedBy.
rejected() {
	"$CIRCUIT_BIN" -d "$1" peek "/${1##*/}" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["DatagramsRejectedBy"][sys.argv[1]])' "$2"
}
port_of() { local p=${1#circuit://127.0.0.1:}; echo "${p%%/*}"; }

# send_udp PORT: sends the datagrams named on stdin (one python literal per
# line) to 127.0.0.1:PORT.
send_udp() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for line in sys.stdin:
    line = line.strip()
    if line:
        s.sendto(eval(line, {"__builtins__": {}, "bytes": bytes, "range": range}),
                 ("127.0.0.1", int(sys.argv[1])))
' "$1"
}

BAD_DATAGRAMS='
b"hello, world"
b"\x00"
b"C"
b"CM\x01"
b"CM\x01\x01\x01\x00\x0c"
b"CM\x02\x01\x04\x00\x04\x00\x00\x00\x01"
b"CM\x01\x00"
b"CM\x01\x01\x01\x00\x0c" + b"\x00" * 13
b"CM\x01\xff" + b"\x09\x00\x00" * 300
b"CM\x01\x01" + b"\x01" * 65503
bytes(range(256)) * 255 + bytes(187)
b"CB\x01\x00"
b"CB\x01\x00" + b"\x00" * 8 + b"\x05" + b"a b:c"
b"CB\x01\x00" + b"\x01" * 8 + b"\x20" + b"127.0.0.1:1"
b"CB\x02\x00" + b"\x01" * 8 + b"\x0b" + b"127.0.0.1:1"
b"CQ\x01\x00" + b"\x00" * 8
b"CX\x01\x00" + b"\x00" * 100
'
N_BAD=$(grep -c . <<<"$BAD_DATAGRAMS")

# ---- Plaintext: garbage is dropped and counted; the server keeps serving.
start_server -v
S1=$SERVER_URL
P1=$(port_of "$S1")
send_udp "$P1" <<<"$BAD_DATAGRAMS"
wait_true 5 '[ "$(server_field "$S1" DatagramsRejected)" -ge "$N_BAD" ]'
server_alive
members_are "$S1" 1 || fail "garbage changed the view"
[ "$(rejected "$S1" malformed)" -ge 6 ] || fail "bad beacons and queries are not counted as malformed"
[ "$(rejected "$S1" member-truncated)" -ge 1 ] || fail "truncated membership datagrams not counted"
[ "$(rejected "$S1" member-bad-version)" -ge 1 ] || fail "other versions not counted"
grep -q "dropped a datagram from 127.0.0.1:[0-9]* (malformed)" "$SERVER_LOG" ||
	fail "no log line for the first malformed datagram"
[ "$(grep -c 'dropped a datagram.*(malformed)' "$SERVER_LOG")" = 1 ] ||
	fail "every malformed datagram was logged, not just the first"
ok "$N_BAD bad plaintext datagrams and beacons (up to 65,507 bytes): dropped, counted, still serving"

# A flood of garbage does not stall it either.
python3 -c '
import socket, os, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20000):
    s.sendto(os.urandom(1 + i % 1400), ("127.0.0.1", int(sys.argv[1])))
' "$P1"
server_alive
ok "20,000 random datagrams: still serving"

# A well-formed beacon from another server makes it join that address: here
# nothing listens there, so the seed is retried with back-off, not fatal.
send_udp "$P1" <<<'b"CB\x01\x00" + b"\x00\x00\x00\x00\x00\x00\x00\x2a" + b"\x0b" + b"127.0.0.1:9"'
wait_until 5 grep -q "beacon from X000000000000002a at 127.0.0.1:9: joining it" "$SERVER_LOG"
server_alive
ok "a beacon from an unknown server is joined (and an unreachable one retried)"

# ---- Sealed: plaintext and forged datagrams never reach the engine.
"$CIRCUIT_BIN" keygen "$T_TMP/k1"
"$CIRCUIT_BIN" keygen "$T_TMP/k2"
chmod 600 "$T_TMP/k1" "$T_TMP/k2"
start_server -v --hmac "$T_TMP/k1"
K1=$SERVER_URL
PK=$(port_of "$K1")
send_udp "$PK" <<<"$BAD_DATAGRAMS"
send_udp "$PK" <<<'b"\x02" + b"\x00" * 44 + b"\x00" * 100'
keyed_field() {
	"$CIRCUIT_BIN" -d "$K1" -hmac "$T_TMP/k1" peek "/${K1##*/}" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]] if len(sys.argv) < 3 else d[sys.argv[1]][sys.argv[2]])' "$@"
}
wait_true 5 '[ "$(keyed_field DatagramsRejected)" -ge $((N_BAD + 1)) ]'
[ "$(keyed_field DatagramsRejectedBy version)" -ge 4 ] || fail "plaintext not rejected as version"
[ "$(keyed_field DatagramsRejectedBy auth)" -ge 1 ] || fail "forged sealed datagram not rejected as auth"
[ "$(keyed_field DatagramsRejectedBy truncated)" -ge 1 ] || fail "short datagram not rejected as truncated"
[ "$(keyed_field DatagramsRejectedBy member-truncated)" = 0 ] || fail "garbage reached the engine"
[ "$(keyed_field BeaconsIn)" = 0 ] || fail "an unsealed beacon was accepted"
ok "keyed: unsealed and forged datagrams are rejected before the engine, by reason"

# Two servers with a shared key join (the second in the middle of a
# rotation: it seals with the old key and already accepts the new one); one
# with another key does not.
cat "$T_TMP/k1" "$T_TMP/k2" >"$T_TMP/both"
chmod 600 "$T_TMP/both"
start_server -v --hmac "$T_TMP/both" -j "$K1"
K2=$SERVER_URL
start_server -v --hmac "$T_TMP/k2" -j "$K1"
K3=$SERVER_URL
K3_LOG=$SERVER_LOG
wait_true 10 '[ "$(keyed_field Members)" = 2 ]'
sleep 2
[ "$(keyed_field Members)" = 2 ] || fail "a server with another key joined"
[ "$("$CIRCUIT_BIN" -d "$K3" -hmac "$T_TMP/k2" peek "/${K3##*/}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Members"])')" = 1 ] ||
	fail "the server with another key sees members"
kill -0 "$SERVER_PID" || fail "a refused join was fatal"
ok "keyed cluster: rotation keys interoperate, another key stays out"

# ---- -j with the wrong ID: one clear line, retried, never fatal.
X_WRONG=X00000000000000ff
start_server -v -j "circuit://127.0.0.1:$P1/1/$X_WRONG"
W=$SERVER_URL
W_LOG=$SERVER_LOG
W_PID=$SERVER_PID
wait_until 5 grep -q "names $X_WRONG but the server at 127.0.0.1:$P1 is ${S1##*/}" "$W_LOG"
sleep 4
kill -0 "$W_PID" || fail "a wrong join ID was fatal"
[ "$(grep -c "names $X_WRONG" "$W_LOG")" = 1 ] || fail "the wrong-ID line is repeated"
[ "$(grep -c 'no seed answered; retrying' "$W_LOG")" -ge 2 ] || fail "the seed is not retried"
members_are "$W" 1 || fail "joined a server with the wrong ID"
members_are "$S1" 1 || fail "the wrong-ID check let our view in"
ok "-j URL with the wrong ID: one clear line, retried, not joined, not fatal"

# ---- An unreachable seed: retried with back-off, one line per round.
CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_server -v -j "127.0.0.1:$CLOSED"
U=$SERVER_URL
# Three rounds, each logged once with the wait before the next: the waits
# double (1, 2, 4 s), whatever the machine's speed (the 30 s only guard a hang).
wait_true 30 '[ "$(grep -c "no seed answered; retrying" "$SERVER_LOG")" -ge 3 ]'
server_alive
waits=$(grep -o "no seed answered; retrying in [0-9]* ms" "$SERVER_LOG" | grep -o "[0-9]* ms" |
	tr -d ' ms' | head -3 | tr '\n' ' ')
[ "$waits" = "1000 2000 4000 " ] || fail "seed retry waits: $waits(want 1000 2000 4000: doubling)"
ok "an unreachable seed: retried with back-off (${waits% } ms), logged once per round"

# ---- Discovery on loopback: servers bound to 127.0.0.1 (beacons leave
# through lo only) find each other, by --discover and by $CIRCUIT_DISCOVER;
# bad beacons sent to the group are dropped and counted.
G="228.8.8.$((RANDOM % 200 + 20)):$((RANDOM % 20000 + 30000))"
start_server -v --discover "$G"
D1=$SERVER_URL
export CIRCUIT_DISCOVER=$G
start_server -v
unset CIRCUIT_DISCOVER
D2=$SERVER_URL
wait_until 10 members_are "$D1" 2
wait_until 10 members_are "$D2" 2
[ "$(server_field "$D1" Discover)" = "$G" ] || fail "peek does not show the group"
before=$(server_field "$D2" DatagramsRejected)
python3 -c '
import socket, sys
host, port = sys.argv[1].split(":")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
for d in [b"CB", b"CB\x01\x00" + bytes(9), b"CB\x01\x00" + bytes(8) + b"\xff" + b"x" * 10,
          b"CQ\x01\x00", b"junk" * 100]:
    s.sendto(d, (host, int(port)))
' "$G"
wait_true 5 '[ "$(server_field "$D2" DatagramsRejected)" -ge $((before + 5)) ]'
members_are "$D1" 2 || fail "bad beacons changed the view"
ok "loopback discovery: --discover and \$CIRCUIT_DISCOVER servers join by beacons; bad beacons counted"

# A client that finds a server through an unkeyed group is told the answer
# is unauthenticated; one that finds it with the cluster key is not.
"$CIRCUIT_BIN" -discover "$G" ls / >"$T_TMP/disc.out" 2>"$T_TMP/disc.err" ||
	fail "circuit -discover ls / failed: $(cat "$T_TMP/disc.err")"
[ "$(grep -c '^/X' "$T_TMP/disc.out")" = 2 ] || fail "circuit -discover ls / printed: $(cat "$T_TMP/disc.out")"
grep -q "^circuit: warning: the answer on $G (circuit://.*) is unauthenticated" "$T_TMP/disc.err" ||
	fail "an unkeyed discovery answer was not flagged: $(cat "$T_TMP/disc.err")"
"$CIRCUIT_BIN" keygen "$T_TMP/dk"
GK="228.8.8.$((RANDOM % 200 + 20)):$((RANDOM % 20000 + 30000))"
[ "$GK" = "$G" ] && GK="${G%:*}:$((${G#*:} + 1))"
start_server --hmac "$T_TMP/dk" --discover "$GK"
"$CIRCUIT_BIN" -discover "$GK" -hmac "$T_TMP/dk" ls / >"$T_TMP/disck.out" 2>"$T_TMP/disck.err" ||
	fail "keyed circuit -discover ls / failed: $(cat "$T_TMP/disck.err")"
grep -q '^/X' "$T_TMP/disck.out" || fail "keyed -discover ls / printed: $(cat "$T_TMP/disck.out")"
[ ! -s "$T_TMP/disck.err" ] || fail "a keyed discovery answer drew: $(cat "$T_TMP/disck.err")"
ok "an unkeyed discovery answer is flagged unauthenticated to the client; a sealed one is not"

# ---- Bad flags are refused with the engine's own message.
expect_fail 2 "probe_timeout_ms must be positive and below probe_interval_ms" \
	"$CIRCUITD_BIN" -a 127.0.0.1:0 --probe-interval 300
expect_fail 2 "--suspicion-mult must be at least 1" "$CIRCUITD_BIN" -a 127.0.0.1:0 --suspicion-mult 0
expect_fail 2 "want an IPv4 multicast group" "$CIRCUITD_BIN" -a 127.0.0.1:0 -discover 10.0.0.1:7711
expect_fail 2 "bad server ID" "$CIRCUITD_BIN" -a 127.0.0.1:0 -j "circuit://127.0.0.1:1/1/Xnothex"
expect_fail 2 "want an IPv4 multicast group" "$CIRCUIT_BIN" -discover nonsense ls /
ok "bad membership flags are refused"

# ---- Leaving and crashing: both drop out of the view fast.
start_server -v --probe-interval 500 --probe-timeout 200
A=$SERVER_URL
A_LOG=$SERVER_LOG
start_server -v -j "$A"
B=$SERVER_URL
B_PID=$SERVER_PID
start_server -v -j "$A"
C=$SERVER_URL
C_PID=$SERVER_PID
wait_until 10 members_are "$A" 3
wait_until 10 members_are "$B" 3
kill -TERM "$B_PID"
wait "$B_PID" || true
wait_until 10 members_are "$A" 2
wait_until 10 members_are "$C" 2
# The others learn it as a leave (gossiped before exit), not as a failure
# found by probing.
B_ID=${B##*/}
grep -q "$B_ID left at .* (left)" "$A_LOG" ||
	fail "A did not see B leave: $(grep "$B_ID" "$A_LOG" | tail -3)"
ok "SIGTERM: the leave is gossiped, the others drop it as left"
kill -KILL "$C_PID"
wait "$C_PID" 2>/dev/null || true
wait_until 5 members_are "$A" 1
ok "SIGKILL: the crash is noticed (refused port) within seconds"
