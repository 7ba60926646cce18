#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/receiver_killed: a receiver killed (SIGKILL) after it got part of a
# big message loses nothing: the whole message is still there, at the
# head, for the next receiver.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
start_server
P=/$SERVER_ID/big
c mkchan -max 16M "$P" 2
expect_peek "$P" MaxSize 16777216

head -c $((8 * 1024 * 1024)) /dev/urandom >"$T_TMP/big"
echo "second" >"$T_TMP/small"
ct send "$P" <"$T_TMP/big"
ct send "$P" <"$T_TMP/small"
expect_peek "$P" Pending 2

# The receiver writes into a pipe that we read only 1000 bytes of, so it
# stalls in the middle of the 8 MiB message; then it is killed.
mkfifo "$T_TMP/pipe"
"$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" recv "$P" >"$T_TMP/pipe" 2>"$T_TMP/r1.err" &
R1=$!
t_track "$R1"
exec 3<"$T_TMP/pipe"
head -c 1000 <&3 >"$T_TMP/part"
[ "$(wc -c <"$T_TMP/part")" = 1000 ] || fail "the first receiver printed nothing"
cmp -n 1000 "$T_TMP/big" "$T_TMP/part" || fail "the first receiver got other bytes"
still_blocked "$R1" "a receiver whose stdout is not read"
kill -KILL "$R1"
bg_wait "$R1"
exec 3<&-
ok "receiver killed after a partial read"

wait_until 20 peek_is "$P" Pending 2
expect_peek "$P" NumRecv 0
ct recv "$P" >"$T_TMP/got"
cmp "$T_TMP/big" "$T_TMP/got" || fail "the next receiver did not get the whole message"
[ "$(ct recv "$P")" = second ] || fail "the second message is not next"
expect_peek "$P" NumRecv 2
expect_peek "$P" Pending 0
ok "the next receiver gets the whole message, then the next one: nothing lost"

# Rendezvous: the sender stays blocked while its message comes back.
Z=/$SERVER_ID/big0
c mkchan -max 16M "$Z" 0
BG_IN=$T_TMP/big bg s0 send "$Z"
S0=$BG_PID
wait_peek "$Z" WaitingSenders 1
mkfifo "$T_TMP/pipe0"
"$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" recv "$Z" >"$T_TMP/pipe0" 2>"$T_TMP/r0.err" &
R0=$!
t_track "$R0"
exec 4<"$T_TMP/pipe0"
head -c 1000 <&4 >/dev/null
kill -KILL "$R0"
bg_wait "$R0"
exec 4<&-
still_blocked "$S0" "the sender of a message whose receiver died"
ct recv "$Z" >"$T_TMP/got0"
cmp "$T_TMP/big" "$T_TMP/got0" || fail "capacity 0: the next receiver did not get the whole message"
bg_expect "$S0" s0 0
ok "capacity 0: the sender waits until a receiver has it whole"

# A receiver killed while it waits leaves nothing pending: the next send
# is not swallowed by it but blocks until a live receiver comes.
bg dead recv "$Z"
D=$BG_PID
wait_peek "$Z" WaitingReceivers 1
kill -KILL "$D"
bg_wait "$D"
wait_peek "$Z" WaitingReceivers 0
echo "for the living" >"$T_TMP/living"
BG_IN=$T_TMP/living bg s1 send "$Z"
S1=$BG_PID
wait_peek "$Z" WaitingSenders 1
still_blocked "$S1" "a send whose only receiver was killed"
[ "$(ct recv "$Z")" = "for the living" ] || fail "the live receiver did not get the message"
bg_expect "$S1" s1 0
ok "a killed waiting receiver swallows nothing"
server_alive
