#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/rendezvous: with capacity 0 a send completes only once a receiver
# has taken its message, and messages are taken in the order sent.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
start_server
P=/$SERVER_ID/rv
c mkchan "$P" 0

# Three senders, started one after the other; each blocks.
for i in 1 2 3; do
	echo "message $i" >"$T_TMP/in$i"
	BG_IN=$T_TMP/in$i bg send$i send "$P"
	eval "S$i=$BG_PID"
	wait_peek "$P" WaitingSenders "$i"
done
still_blocked "$S1" "send on a capacity-0 channel without a receiver"
expect_peek "$P" Pending 0
expect_peek "$P" NumSend 0
ok "senders block while no receiver comes"

for i in 1 2 3; do
	ct recv "$P" >"$T_TMP/got$i"
	cmp "$T_TMP/in$i" "$T_TMP/got$i" || fail "receive $i got '$(cat "$T_TMP/got$i")'"
	eval "bg_expect \$S$i send$i 0"
	for j in $(seq $((i + 1)) 3); do
		eval "running \$S$j" || fail "send $j returned before its message was received"
	done
done
expect_peek "$P" NumSend 3
expect_peek "$P" NumRecv 3
ok "each receive takes the oldest message and releases exactly its sender"

# Receiver first: it blocks until a send comes, and the send returns only
# after the receiver has the message.
bg r1 recv "$P"
R1=$BG_PID
wait_peek "$P" WaitingReceivers 1
still_blocked "$R1" "recv on an empty channel"
echo "late message" | ct send "$P" || fail "send to a waiting receiver failed"
bg_expect "$R1" r1 0
[ "$(cat "$T_TMP/r1.out")" = "late message" ] ||
	fail "the waiting receiver got '$(cat "$T_TMP/r1.out")'"
expect_peek "$P" WaitingReceivers 0
ok "a waiting receiver gets the next send"
server_alive
