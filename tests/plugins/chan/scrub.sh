#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/scrub: scrub aborts the channel: blocked senders and receivers fail
# with "channel aborted", buffered messages are dropped (and counted in the
# op log), and the path is free again.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
start_server

P=/$SERVER_ID/senders
c mkchan "$P" 2
echo a | ct send "$P"
echo b | ct send "$P"
echo c >"$T_TMP/c"
BG_IN=$T_TMP/c bg s1 send "$P"; S1=$BG_PID
BG_IN=$T_TMP/c bg s2 send "$P"; S2=$BG_PID
wait_peek "$P" WaitingSenders 2
ct scrub "$P"
bg_expect "$S1" s1 1 "channel aborted"
bg_expect "$S2" s2 1 "channel aborted"
c ls -l "/$SERVER_ID/..." >"$T_TMP/ls"
! grep -q "senders" "$T_TMP/ls" || fail "the scrubbed channel is still listed"
ok "blocked senders fail with 'channel aborted'; the element is gone"

# The two buffered messages were dropped and counted in the op log.
grep -F '"event":"drop"' "$SERVER_LOG" | grep -F "\"path\":\"$P\"" | grep -qF '"value":2' ||
	fail "the op log has no drop event of 2 messages for $P"
ok "the op log counts 2 dropped messages"

R=/$SERVER_ID/receivers
c mkchan "$R" 0
bg r1 recv "$R"; R1=$BG_PID
bg r2 recv "$R"; R2=$BG_PID
wait_peek "$R" WaitingReceivers 2
ct scrub "$R"
bg_expect "$R1" r1 1 "channel aborted"
bg_expect "$R2" r2 1 "channel aborted"
ok "blocked receivers fail with 'channel aborted'"

# The path can hold a new, empty channel.
c mkchan "$P" 1
expect_peek "$P" Pending 0
ok "a new channel at the same path starts empty"
server_alive
