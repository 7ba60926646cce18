#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_errors: bad input gets one clear line and the element keeps serving:
# invalid record text (ldns's reason), relative names, CNAME conflicts,
# unset of a missing name or type, bad addresses, a port in use, usage.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0
c set "$P" "a.example. 60 IN A 192.0.2.1"

expect_fail 2 "invalid record: Syntax error, could not parse the RR's rdata" \
	c set "$P" "b.example. 60 IN A 192.0.2.300"
expect_fail 2 "invalid record: Syntax error" c set "$P" "this is not a record"
expect_fail 2 "superfluous text" c set "$P" "b.example. 60 IN A 192.0.2.1 extra"
expect_fail 2 "relative name" c set "$P" "www 60 IN A 192.0.2.1"
expect_fail 2 "relative name" c set "$P" "b.example. 60 IN MX 10 mail"
expect_fail 2 "class CH is not served" c set "$P" "b.example. 60 CH TXT \"x\""
expect_fail 2 "empty" c set "$P" ""
expect_fail 2 "must be alone" c set "$P" "a.example. 60 IN CNAME b.example."
ok "set with invalid text: one line each, with the reason"

expect_fail 1 "no record named nothere.example." c unset "$P" nothere.example.
expect_fail 1 "no MX record named a.example." c unset "$P" a.example. MX
expect_fail 2 "unknown record type" c unset "$P" a.example. NOTATYPE
ok "unset of a missing name/type"

# Wrong argument counts: a usage error in one line (the server checks the
# counts the plugin declares; the CLI exits 1 or 2 depending on who refused).
for args in "set $P" "unset $P" "set $P a.example. b.example." "unset $P a. A extra"; do
	rc=0
	c $args >/dev/null 2>"$T_TMP/usage.err" || rc=$?
	[ "$rc" = 1 ] || [ "$rc" = 2 ] || fail "'$args' exited $rc"
	grep -q "usage: circuit ${args%% *} PATH" "$T_TMP/usage.err" || fail "'$args': $(cat "$T_TMP/usage.err")"
	[ "$(wc -l <"$T_TMP/usage.err")" = 1 ] || fail "'$args': not one line"
done
ok "usage errors"

# A failed mkdns leaves no element behind.
expect_fail 2 "invalid address" c mkdns /$SERVER_ID/bad not-an-address:53
expect_fail 2 "invalid address" c mkdns /$SERVER_ID/bad 127.0.0.1:99999
expect_fail 1 "Address already in use" c mkdns /$SERVER_ID/bad "$DNS_ADDR"
if c ls /$SERVER_ID | grep -q "/bad"; then fail "a failed mkdns left an element"; fi
ok "mkdns errors leave nothing"

# Nothing above disturbed the element or the server.
expect_eq "still serving" "$(q +short a.example A)" "192.0.2.1"
expect_eq "records intact" "$(c peek "$P" | jq -c '.Records | keys')" '["a.example."]'
server_alive
ok "still serving"
