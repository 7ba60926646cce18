#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The original's `stk` and runtime `join` (issue 19): stk prints a server's
# state as JSON (connections, operations in flight, elements by kind,
# membership, counters), direct and relayed; join makes a running server
# join another URL's circuit, and reports to the caller why it could not.
# Before: both were taken for plugin verbs of a server path and failed.
. "$CIRCUIT_TESTLIB"

start_server --plugins=proc,chan
A=$SERVER_URL XA=$SERVER_ID
start_server --plugins=proc,chan
B=$SERVER_URL XB=$SERVER_ID PB=$SERVER_PID
a() { "$CIRCUIT_BIN" -d "$A" "$@"; }
b() { "$CIRCUIT_BIN" -d "$B" "$@"; }

echo '{"Path":"/bin/sleep","Args":["300"]}' | a mkproc "/$XA/job"
a mkchan "/$XA/q" 1
# An operation in flight while stk looks: a receive blocked on the empty channel.
a recv "/$XA/q" >/dev/null 2>&1 &
RECV=$!
t_track "$RECV"
wait_true 10 'a stk "/$XA" | grep -q "\"Op\" : \"recv\""'
a stk "/$XA" >"$T_TMP/stk"
python3 - "$T_TMP/stk" "$XA" <<'PY' || { cat "$T_TMP/stk" >&2; fail "stk lacks what it should show"; }
import json, sys
s = json.load(open(sys.argv[1])); xa = sys.argv[2]
assert s["ID"] == xa and s["UptimeSeconds"] >= 0
assert s["Elements"] == {"proc": 1, "chan": 1}, s["Elements"]
assert s["ConnectionsOpen"] == len(s["Connections"]) and s["OperationsInFlight"] == len(s["Operations"])
conns = s["Connections"]
assert len(conns) >= 2 and all(c["State"] and "Streams" in c and "QueuedBytes" in c for c in conns), conns
ops = {o["Op"]: o for o in s["Operations"]}
assert ops["recv"]["Path"] == "/%s/q" % xa and ops["recv"]["AgeMs"] >= 0, ops
assert "stk" in ops
assert [m["ID"] for m in s["Members"]] == [xa] and s["Members"][0]["Self"], s["Members"]
assert "DatagramsIn" in s["Counters"] and "OpLog" in s["Counters"]
PY
ok "stk: connections, operations in flight, elements by kind, members, counters"

# stk of an element is a usage mistake, and takes no argument.
expect_fail 2 "takes a server's path" a stk "/$XA/job"
expect_fail 2 "takes only PATH" a stk "/$XA" extra
ok "stk on an element, or with an extra word: named, exit 2"

# join: errors reach the caller and join nothing.
expect_fail 1 "Connection refused" a join "/$XA" "127.0.0.1:$(free_port)"
expect_fail 1 "is $XB, not X0123456789abcdef" a join "/$XA" "${B%/*}/X0123456789abcdef"
expect_fail 2 "that is this server" a join "/$XA" "$A"
expect_fail 2 "join" a join "/$XA" "circuit://nohost"
expect_fail 2 "usage: join" a join "/$XA"
expect_fail 2 "takes a server's path" a join "/$XA/job" "$B"
[ "$(a ls / | wc -l)" = 1 ] || fail "a failed join joined something"
ok "join: refused, wrong ID, itself, malformed, missing URL, element path: each named; nothing joined"

# A running server joins B's circuit: both see both.
a join "/$XA" "$B" >"$T_TMP/join"
grep -q "\"Joined\" : \"$XB\"" "$T_TMP/join" || { cat "$T_TMP/join" >&2; fail "join did not say whom it joined"; }
wait_true 20 '[ "$(a ls / | wc -l)" = 2 ] && [ "$(b ls / | wc -l)" = 2 ]'
ok "join: a running server joined another circuit; both list both"

# Relayed: stk of A dialed at B, and B's membership view holds A.
b stk "/$XA" | grep -q "\"ID\" : \"$XA\"" || fail "relayed stk did not reach A"
b stk "/$XB" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert sorted(m["State"] for m in s["Members"]) == ["alive", "alive"], s["Members"]
' || fail "B's stk does not show A alive"
ok "stk through a relay; membership view after the join"

kill "$RECV" 2>/dev/null || true

# Under an ACL, stk and join need their own right (or all): read is not enough.
"$CIRCUIT_BIN" keygen "$T_TMP/k0" && "$CIRCUIT_BIN" keygen "$T_TMP/k1" && "$CIRCUIT_BIN" keygen "$T_TMP/k2"
printf '%s cluster\n%s reader\n%s ops\n' "$(cat "$T_TMP/k0")" "$(cat "$T_TMP/k1")" "$(cat "$T_TMP/k2")" >"$T_TMP/server.key"
chmod 600 "$T_TMP/server.key"
printf 'key:cluster server,all\nkey:reader read /\nkey:ops read,stk /\n' >"$T_TMP/acl"
start_server --plugins=proc --hmac "$T_TMP/server.key" --acl "$T_TMP/acl"
C=$SERVER_URL XC=$SERVER_ID
printf '%s\n' "$(cat "$T_TMP/k1")" >"$T_TMP/reader.key"
printf '%s\n' "$(cat "$T_TMP/k2")" >"$T_TMP/ops.key"
chmod 600 "$T_TMP/reader.key" "$T_TMP/ops.key"
expect_fail 1 "permission denied" "$CIRCUIT_BIN" -d "$C" -hmac "$T_TMP/reader.key" stk "/$XC"
"$CIRCUIT_BIN" -d "$C" -hmac "$T_TMP/ops.key" stk "/$XC" | grep -q '"Connections"' ||
	fail "a key with the stk right could not stk"
expect_fail 1 "permission denied" "$CIRCUIT_BIN" -d "$C" -hmac "$T_TMP/ops.key" join "/$XC" "$A"
ok "under an ACL: read does not grant stk or join; their own right does"
