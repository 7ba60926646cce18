#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/capacity: with capacity n, n sends return at once and send n+1
# blocks until a receiver has taken a message.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
start_server

for n in 1 4; do
	P=/$SERVER_ID/cap$n
	c mkchan "$P" "$n"
	for i in $(seq 1 "$n"); do
		echo "m$i" | ct send "$P" || fail "send $i of $n blocked or failed"
	done
	expect_peek "$P" Pending "$n"
	echo "m$((n + 1))" >"$T_TMP/last"
	BG_IN=$T_TMP/last bg last$n send "$P"
	S=$BG_PID
	wait_peek "$P" WaitingSenders 1
	still_blocked "$S" "send $((n + 1)) into capacity $n"
	expect_peek "$P" Pending "$n"
	expect_peek "$P" NumSend "$n"
	ok "capacity $n: $n sends return, send $((n + 1)) blocks"

	[ "$(ct recv "$P")" = m1 ] || fail "first receive is not m1"
	bg_expect "$S" "last$n" 0
	expect_peek "$P" Pending "$n"
	for i in $(seq 2 $((n + 1))); do
		got=$(ct recv "$P")
		[ "$got" = "m$i" ] || fail "receive $i got '$got', wanted m$i"
	done
	expect_peek "$P" Pending 0
	expect_peek "$P" NumRecv $((n + 1))
	ok "capacity $n: a receive frees a slot; order kept"
done
server_alive
