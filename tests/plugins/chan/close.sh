#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/close: close while receivers and senders block. Blocked receivers
# of an empty channel get end-of-channel (exit 4); sends not yet accepted
# fail with "channel closed" (exit 4); accepted messages are drained first.
# A send after close and a second close fail too.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
start_server

# Receivers blocked on an empty channel.
P=/$SERVER_ID/empty
c mkchan "$P" 0
bg r1 recv "$P"; R1=$BG_PID
bg r2 recv "$P"; R2=$BG_PID
wait_peek "$P" WaitingReceivers 2
ct close "$P"
bg_expect "$R1" r1 4
bg_expect "$R2" r2 4
[ ! -s "$T_TMP/r1.out" ] || fail "a receiver printed something at end of channel"
expect_peek "$P" Closed true
expect_fail 4 "channel closed" ct recv "$P"
ok "blocked receivers end with exit 4 when the channel is closed"

# Senders blocked on a full channel.
Q=/$SERVER_ID/full
c mkchan "$Q" 1
echo kept | ct send "$Q"
echo refused >"$T_TMP/refused"
BG_IN=$T_TMP/refused bg s1 send "$Q"; S1=$BG_PID
wait_peek "$Q" WaitingSenders 1
ct close "$Q"
bg_expect "$S1" s1 4 "channel closed"
expect_peek "$Q" WaitingSenders 0
ok "a blocked sender fails with 'channel closed'"

expect_fail 4 "channel closed" ct send "$Q"
expect_fail 4 "already closed" ct close "$Q"
ok "send after close and a second close fail"

[ "$(ct recv "$Q")" = kept ] || fail "the accepted message was not drained"
expect_fail 4 "channel closed" ct recv "$Q"
expect_peek "$Q" NumRecv 1
ok "receivers drain the buffer, then get end of channel"

# A shell loop stops at the end.
L=/$SERVER_ID/loop
c mkchan "$L" 5
for i in 1 2 3; do echo "$i" | ct send "$L"; done
ct close "$L"
n=0
while out=$(ct recv "$L"); do n=$((n + out)); done || true
[ "$n" = 6 ] || fail "the recv loop summed $n, wanted 6"
rc=0; ct recv "$L" >/dev/null 2>&1 || rc=$?
[ "$rc" = 4 ] || fail "recv on a drained closed channel exited $rc, wanted 4"
ok "while circuit recv ...; do ...; done drains and stops"
server_alive
