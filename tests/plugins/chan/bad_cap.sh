#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/bad_cap: mkchan with a capacity that is not an integer >= 0 fails
# with a one-line error naming the value, and leaves no element behind.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
start_server

for cap in -1 x 1.5 "" " 3" 99999999999999999999; do
	P=/$SERVER_ID/bad
	if [ "$cap" = 99999999999999999999 ]; then want="too large"; else want="capacity \"$cap\""; fi
	expect_fail 2 "$want" ct mkchan "$P" "$cap"
	c ls "/$SERVER_ID/..." >"$T_TMP/ls"
	! grep -q "/bad" "$T_TMP/ls" || fail "mkchan '$cap' left an element behind"
	server_alive
	ok "capacity '$cap' refused: $(cat "$T_TMP/ef.err")"
done
expect_fail 2 "capacity" ct mkchan "/$SERVER_ID/bad" 3 4
server_alive
ok "an extra argument is refused"
c mkchan "/$SERVER_ID/bad" 3
expect_peek "/$SERVER_ID/bad" Cap 3
ok "a good capacity works at the same path afterwards"
