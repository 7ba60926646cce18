#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/timeout: libcircuit's send and recv with a timeout give up cleanly:
# nothing of theirs stays pending on the server (see chan_timeout.c).
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
helper=$CIRCUIT_BUILD_DIR/tests/plugins/chan/chan_timeout
[ -x "$helper" ] || fail "$helper is not built (cmake --build the tree first)"
start_server

P=/$SERVER_ID/t
c mkchan "$P" 0
"$helper" "$CIRCUIT_TEST_URL" "$P" &
H=$!
t_track "$H"
rc=0
wait "$H" || rc=$?
[ "$rc" = 0 ] || fail "chan_timeout found something left pending"
expect_peek "$P" WaitingSenders 0
expect_peek "$P" WaitingReceivers 0
expect_peek "$P" NumRecv 1
ok "timed-out send and recv leave nothing pending"
server_alive
