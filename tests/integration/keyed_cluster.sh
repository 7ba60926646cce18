#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A keyed cluster of three servers: every element kind of the build (proc,
# chan, dns, subscription; docker in tests/plugins/docker) used end to end
# through another server, peer connections and datagrams all keyed; wrong
# keys refused on TCP and their datagrams dropped and counted; an unkeyed
# server never joins.
. "$CIRCUIT_TESTLIB"
command -v dig >/dev/null || fail "dig is missing (apt-get install dnsutils)"
command -v jq >/dev/null || fail "jq is missing"

"$CIRCUIT_BIN" keygen "$T_TMP/k1"
"$CIRCUIT_BIN" keygen "$T_TMP/bad"
chmod 600 "$T_TMP/k1" "$T_TMP/bad"
PLUGINS=--plugins=proc,chan,dns,subscription

start_server --hmac "$T_TMP/k1" $PLUGINS
A=$SERVER_URL; XA=$SERVER_ID; PA=$SERVER_PID
start_server --hmac "$T_TMP/k1" $PLUGINS -j "$A"
B=$SERVER_URL; XB=$SERVER_ID
start_server --hmac "$T_TMP/k1" $PLUGINS -j "$A"
C=$SERVER_URL; XC=$SERVER_ID
k() { local u=$1; shift; "$CIRCUIT_BIN" -d "$u" -hmac "$T_TMP/k1" "$@"; }
n_members() { k "$1" ls / | grep -c '^/X'; }
all3() { for u in "$A" "$B" "$C"; do [ "$(n_members "$u")" = 3 ] || return 1; done; }
wait_until 20 all3
ok "three keyed servers form a cluster"

# proc on C through A.
echo '{"Path":"/bin/sh","Args":["-c","seq 1 50000; echo done >&2"]}' | k "$A" mkproc "/$XC/p"
k "$A" stdout "/$XC/p" | cmp - <(seq 1 50000) || fail "keyed proc stdout through A"
[ "$(k "$B" stderr "/$XC/p")" = done ] || fail "keyed proc stderr through B"
k "$A" wait "/$XC/p" >/dev/null
ok "proc on one server, driven and read through the two others"

# chan on B: sent through C, received through A.
k "$A" mkchan "/$XB/ch" 5
printf 'hello keyed\n' | k "$C" send "/$XB/ch"
[ "$(k "$A" recv "/$XB/ch")" = "hello keyed" ] || fail "keyed chan across servers"
k "$C" close "/$XB/ch"
ok "chan across servers"

# dns on C, made through A, a record set through B, asked with dig.
k "$A" mkdns "/$XC/dns"
addr=$(k "$B" peek "/$XC/dns" | jq -r .Address)
k "$B" set "/$XC/dns" "svc.example. 60 IN A 10.1.2.3"
got=$(dig @"${addr%:*}" -p "${addr##*:}" +time=2 +tries=2 +short svc.example. A)
[ "$got" = 10.1.2.3 ] || fail "dig got '$got'"
ok "dns across servers"

# @join and @leave on B through C; a fourth keyed server comes and is killed.
k "$C" mk@join "/$XB/joins"
k "$C" mk@leave "/$XB/leaves"
for _ in 1 2 3; do k "$A" recv "/$XB/joins" >>"$T_TMP/joined"; done
sort "$T_TMP/joined" | tr '\n' ' ' | grep -q "/$XA" || fail "@join did not report the members"
start_server --hmac "$T_TMP/k1" $PLUGINS -j "$B"
XD=$SERVER_ID; PD=$SERVER_PID
[ "$(timeout 20 "$CIRCUIT_BIN" -d "$A" -hmac "$T_TMP/k1" recv "/$XB/joins")" = "/$XD" ] ||
	fail "@join did not report the fourth server"
kill -KILL "$PD"
[ "$(timeout 60 "$CIRCUIT_BIN" -d "$C" -hmac "$T_TMP/k1" recv "/$XB/leaves")" = "/$XD" ] ||
	fail "@leave did not report the killed server"
ok "subscriptions across a keyed cluster"

# Refusals on TCP.
expect_fail 2 "server requires a key" "$CIRCUIT_BIN" -d "$B" ls /
expect_fail 2 "wrong key" "$CIRCUIT_BIN" -d "$B" -hmac "$T_TMP/bad" ls /
ok "unkeyed and wrong-key clients are refused by a clustered server"

# Datagrams: one sealed with another key (dropped as unauthenticated, five
# times), and one sealed with the cluster's key recorded and replayed (the
# first copy reaches the engine, the five replays do not).
by() { k "$A" peek "/$XA" | jq -r ".DatagramsRejectedBy.$1"; }
seal=$CIRCUIT_BUILD_DIR/tests/tools/udp_seal
PORT_A=${A#circuit://127.0.0.1:}; PORT_A=${PORT_A%%/*}
auth0=$(by auth); replay0=$(by replay)
"$seal" "$T_TMP/bad" 127.0.0.1 "$PORT_A" "$XA" 4
"$seal" "$T_TMP/k1" 127.0.0.1 "$PORT_A" "$XA" 5
auth_counted() { [ "$(by auth)" -ge $((auth0 + 5)) ] && [ "$(by replay)" -ge $((replay0 + 5)) ]; }
wait_until 10 auth_counted
ok "a wrong-key datagram is dropped and counted ($(by auth) auth); a replayed one too ($(by replay) replay)"

# A server with the wrong key and an unkeyed one try to join: refused, and
# the cluster stays at three.
start_server --hmac "$T_TMP/bad" $PLUGINS -j "$A"
WRONG=$SERVER_URL
start_server $PLUGINS -j "$A"
PLAIN=$SERVER_URL
sleep 4
for u in "$A" "$B" "$C"; do
	[ "$(n_members "$u")" = 3 ] || fail "a server without the key got into the cluster"
done
[ "$("$CIRCUIT_BIN" -d "$WRONG" -hmac "$T_TMP/bad" ls / | grep -c '^/X')" = 1 ] ||
	fail "the wrong-key server should see only itself"
[ "$("$CIRCUIT_BIN" -d "$PLAIN" ls / | grep -c '^/X')" = 1 ] ||
	fail "the unkeyed server should see only itself"
grep -q "refused: wrong key" "$T_TMP"/server1.log || fail "A should log the wrong-key server"
grep -q "refused: server requires a key" "$T_TMP"/server1.log || fail "A should log the unkeyed server"
ok "wrong-key and unkeyed servers never join"

# Nothing secret in any log or peek.
key=$(tr -d '\n' <"$T_TMP/k1")
! grep -qF "$key" "$T_TMP"/server*.log || fail "the key is in a server log"
! k "$A" peek "/$XA" | grep -qF "$key" || fail "the key is in peek"
ok "no key material in logs or peek"
