#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/wrong_kind: channel operations aimed at something that is not a
# channel fail with a clear one-line error, and the server keeps serving.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
start_server

# Another kind of element: a DNS server on loopback if dns is loaded, else
# a process.
E=/$SERVER_ID/other
if c mkdns "$E" 127.0.0.1:0 2>/dev/null; then
	kind=dns
elif echo '{"Path":"/bin/sleep","Args":["60"],"Scrub":false}' | c mkproc "$E" 2>/dev/null; then
	kind=proc
else
	fail "neither dns nor proc could make an element to aim at"
fi
for op in send recv close; do
	expect_fail 1 "$E is a $kind element, which has no operation \"$op\"" ct "$op" "$E"
	server_alive
done
ok "send, recv and close on a $kind element: clear wrong-kind errors"
ct scrub "$E"

expect_fail 2 "is a server, not an element" ct send "/$SERVER_ID"
expect_fail 1 "no element at /$SERVER_ID/nothing" ct recv "/$SERVER_ID/nothing"
server_alive
ok "on a server anchor and on a missing path: clear errors"

# Wrong argument counts for the channel's own operations: usage errors.
c mkchan "/$SERVER_ID/c" 1
expect_fail 2 "wrong number of arguments" ct recv "/$SERVER_ID/c" extra
expect_fail 2 "wrong number of arguments" ct mkchan "/$SERVER_ID/d"
echo still | ct send "/$SERVER_ID/c"
[ "$(ct recv "/$SERVER_ID/c")" = still ] || fail "the channel stopped working"
server_alive
ok "wrong argument counts refused; the channel still works"
