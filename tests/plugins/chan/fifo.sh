#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/fifo: 4 sender threads and 4 receiver threads (each with its own
# connection) move 100,000 checksummed messages through one channel; each
# must arrive exactly once and intact (see chan_fifo.c).
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
helper=$CIRCUIT_BUILD_DIR/tests/plugins/chan/chan_fifo
[ -x "$helper" ] || fail "$helper is not built (cmake --build the tree first)"
start_server

P=/$SERVER_ID/fifo
c mkchan "$P" 100
"$helper" "$CIRCUIT_TEST_URL" "$P" 4 4 100000 &
H=$!
t_track "$H"
rc=0
wait "$H" || rc=$?
[ "$rc" = 0 ] || fail "chan_fifo reported lost, doubled or corrupt messages"
expect_peek "$P" NumSend 100000
expect_peek "$P" NumRecv 100000
expect_peek "$P" Pending 0
ok "100,000 messages, 4 senders, 4 receivers: each received exactly once"

# The same through a rendezvous channel, fewer messages.
Z=/$SERVER_ID/fifo0
c mkchan "$Z" 0
"$helper" "$CIRCUIT_TEST_URL" "$Z" 4 4 10000 &
H=$!
t_track "$H"
rc=0
wait "$H" || rc=$?
[ "$rc" = 0 ] || fail "chan_fifo (capacity 0) reported lost, doubled or corrupt messages"
ok "10,000 messages through capacity 0"

# One receiver: each sender's messages must come in the order it sent them.
O=/$SERVER_ID/fifo1
c mkchan "$O" 10
"$helper" "$CIRCUIT_TEST_URL" "$O" 4 1 20000 &
H=$!
t_track "$H"
rc=0
wait "$H" || rc=$?
[ "$rc" = 0 ] || fail "chan_fifo (1 receiver) saw lost, doubled, corrupt or reordered messages"
ok "20,000 messages, 4 senders, 1 receiver: per-sender FIFO order"
server_alive
