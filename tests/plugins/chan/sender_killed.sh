#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/sender_killed: a sender killed before its message was accepted
# leaves nothing behind: no partial message, no empty one.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
start_server

for cap in 0 2; do
	P=/$SERVER_ID/k$cap
	c mkchan "$P" "$cap"

	# Mid-message: the body's end never comes.
	mkfifo "$T_TMP/in$cap"
	"$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" send "$P" <"$T_TMP/in$cap" 2>/dev/null &
	S=$!
	t_track "$S"
	exec 3>"$T_TMP/in$cap"
	printf 'partial message' >&3
	wait_peek "$P" WaitingSenders 1
	kill -KILL "$S"
	bg_wait "$S"
	exec 3>&-
	wait_peek "$P" WaitingSenders 0
	expect_peek "$P" Pending 0
	expect_peek "$P" NumSend 0
	ok "capacity $cap: sender killed mid-message leaves nothing"

	if [ "$cap" = 0 ]; then
		# Complete but blocked: capacity 0 and no receiver.
		echo "never delivered" >"$T_TMP/whole"
		BG_IN=$T_TMP/whole bg blocked send "$P"
		S=$BG_PID
		wait_peek "$P" WaitingSenders 1
		kill -KILL "$S"
		bg_wait "$S"
		wait_peek "$P" WaitingSenders 0
		ok "capacity 0: blocked sender killed leaves nothing"
	fi

	# A receiver must not see anything of those: it blocks, then gets
	# the next real message.
	bg r$cap recv "$P"
	R=$BG_PID
	wait_peek "$P" WaitingReceivers 1
	still_blocked "$R" "recv after killed senders"
	echo "real message" | ct send "$P"
	bg_expect "$R" "r$cap" 0
	[ "$(cat "$T_TMP/r$cap.out")" = "real message" ] ||
		fail "receiver got '$(cat "$T_TMP/r$cap.out")' instead of the real message"
	expect_peek "$P" NumRecv 1
	ok "capacity $cap: the next receiver gets only the next real message"
done
server_alive
