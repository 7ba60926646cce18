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

# fifo WHAT PATH CAP SENDERS RECEIVERS TOTAL [IN_FLIGHT]: a fresh channel
# at PATH, and chan_fifo through it; WHAT names the case on failure.
fifo() {
	local what=$1 path=$2 cap=$3
	shift 3
	c mkchan "$path" "$cap"
	"$helper" "$CIRCUIT_TEST_URL" "$path" "$@" &
	local h=$!
	t_track "$h"
	local rc=0
	wait "$h" || rc=$?
	[ "$rc" = 0 ] || fail "chan_fifo ($what) reported lost, doubled, corrupt or reordered messages"
}

P=/$SERVER_ID/fifo
fifo "4 senders, 4 receivers" "$P" 100 4 4 100000
expect_peek "$P" NumSend 100000
expect_peek "$P" NumRecv 100000
expect_peek "$P" Pending 0
ok "100,000 messages, 4 senders, 4 receivers: each received exactly once"

# The same through a rendezvous channel, fewer messages.
fifo "capacity 0" "/$SERVER_ID/fifo0" 0 4 4 10000
ok "10,000 messages through capacity 0"

# One receiver: each sender's messages must come in the order it sent them.
fifo "1 receiver" "/$SERVER_ID/fifo1" 10 4 1 20000
ok "20,000 messages, 4 senders, 1 receiver: per-sender FIFO order"

# Pipelined: each sender keeps 16 sends open at once on its one connection;
# with one receiver, each sender's messages must still come in order.
fifo "16 sends in flight per sender" "/$SERVER_ID/fifo-pipelined" 10 4 1 20000 16
ok "20,000 messages, 4 senders with 16 sends in flight each, 1 receiver: per-sender FIFO order"
server_alive
