#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# libcircuit's routes (docs/routing.md): a client dialed into A that works
# on a channel of B sends its first call for B through A, and the rest
# straight to B over a connection of its own; with CIRCUIT_DIRECT=0 every
# call goes through A. Either way every message arrives exactly once. The
# CLI (one call per process) always goes through A. Keyed clusters route
# over keyed connections. Which connection carried each call is read from
# B's op log: calls relayed by A all come from A's one peer connection.
. "$CIRCUIT_TESTLIB"
command -v jq >/dev/null || fail "jq is missing"
helper=$CIRCUIT_BUILD_DIR/tests/plugins/chan/chan_fifo
[ -x "$helper" ] || fail "$helper is not built (cmake --build the tree first)"

# ops LOG OP PATH: "COUNT PEER" per connection that sent OP on PATH.
ops() { grep '^{' "$1" | jq -r --arg op "$2" --arg p "$3" \
	'select(.op == $op and .path == $p) | .peer' | sort | uniq -c | sort -rn; }
# count LOG OP PATH [PEER]: how many OP on PATH (from PEER only, if given).
count() { grep '^{' "$1" | jq -r --arg op "$2" --arg p "$3" --arg peer "${4:-}" \
	'select(.op == $op and .path == $p and ($peer == "" or .peer == $peer)) | .peer' |
	wc -l; }
# fifo URL PATH SENDERS RECEIVERS TOTAL (environment passed through)
fifo() {
	"$helper" "$@" &
	local h=$!
	t_track "$h"
	local rc=0
	wait "$h" || rc=$?
	[ "$rc" = 0 ] || fail "chan_fifo through A reported lost, doubled or corrupt messages"
}

# two_servers [FLAGS...]: B (the channels) and A joined to it; sets B_ID,
# B_LOG, A_URL.
two_servers() {
	start_server --plugins=chan "$@"
	B_ID=$SERVER_ID
	B_LOG=$SERVER_LOG
	local b_url=$SERVER_URL
	start_server --plugins=chan "$@" -j "$b_url"
	A_URL=$SERVER_URL
	wait_true 20 '[ "$(c ls / | grep -c "^/X")" = 2 ]'
}

two_servers
# The CLI's calls go through A (one call per process: no route is made).
P=/$B_ID/routed
c mkchan "$P" 100
RELAY=$(grep '^{' "$B_LOG" | jq -r --arg p "$P" 'select(.op == "mk" and .path == $p) | .peer')
[ -n "$RELAY" ] || fail "B logged no mk of $P"
echo hello | c send "$P"
[ "$(c recv "$P")" = hello ] || fail "send/recv through A lost the message"
[ "$(count "$B_LOG" send "$P" "$RELAY")" = 1 ] || fail "the CLI's send did not come through A"
[ "$(count "$B_LOG" peek "/$B_ID")" = 0 ] || fail "a one-call CLI asked for B's address"
ok "CLI calls through A are relayed by A ($RELAY), and ask for no route"

# A library client: the first call through A, the rest straight to B.
fifo "$A_URL" "$P" 4 4 20000
ops "$B_LOG" send "$P"
relayed=$(($(count "$B_LOG" send "$P" "$RELAY") + $(count "$B_LOG" recv "$P" "$RELAY")))
total=$(($(count "$B_LOG" send "$P") + $(count "$B_LOG" recv "$P")))
[ "$total" -ge 40000 ] || fail "B logged $total sends and receives, wanted 40,000 at least"
# 8 clients, one call each through A (plus the CLI's two above).
[ "$relayed" -le 10 ] || fail "$relayed of $total calls still went through A"
peers=$(grep '^{' "$B_LOG" | jq -r --arg p "$P" 'select(.path == $p) | .peer' | sort -u | wc -l)
[ "$peers" -ge 9 ] || fail "calls came over $peers connections, wanted A's and 8 direct ones"
[ "$(count "$B_LOG" peek "/$B_ID" "$RELAY")" = 8 ] ||
	fail "each of the 8 clients should have asked A for B's address once"
ok "20,000 messages, 4+4 clients dialed into A: $relayed of $total calls via A, the rest direct"

# Pipelined sends (16 open at once per sender, their messages written after
# all 16 were opened) move to the direct connection only between batches:
# with one receiver, each sender's messages still arrive in the order the
# sends were opened.
PP=/$B_ID/pipelined
c mkchan "$PP" 10
fifo "$A_URL" "$PP" 4 1 8000 16s
pp_direct=$(($(count "$B_LOG" send "$PP") - $(count "$B_LOG" send "$PP" "$RELAY")))
[ "$pp_direct" -ge 7000 ] || fail "only $pp_direct of 8,000 pipelined sends went straight to B"
ok "8,000 pipelined sends through A, $pp_direct of them direct: per-sender order kept"

# CIRCUIT_DIRECT=0: everything through A, exactly once all the same.
Q=/$B_ID/relayed
c mkchan "$Q" 100
lookups=$(count "$B_LOG" peek "/$B_ID")
CIRCUIT_DIRECT=0 fifo "$A_URL" "$Q" 4 4 10000
qtotal=$(($(count "$B_LOG" send "$Q") + $(count "$B_LOG" recv "$Q")))
qrelayed=$(($(count "$B_LOG" send "$Q" "$RELAY") + $(count "$B_LOG" recv "$Q" "$RELAY")))
[ "$qtotal" -ge 20000 ] || fail "B logged $qtotal sends and receives, wanted 20,000 at least"
[ "$qrelayed" = "$qtotal" ] || fail "with CIRCUIT_DIRECT=0, $((qtotal - qrelayed)) calls bypassed A"
[ "$(count "$B_LOG" peek "/$B_ID")" = "$lookups" ] || fail "CIRCUIT_DIRECT=0 still asked for routes"
ok "CIRCUIT_DIRECT=0: all $qtotal calls relayed by A, none routed"

# A direct connection that is lost: the call on it fails (one line, no
# hang), the next goes through A again, which answers for the server.
start_server --plugins=chan -j "$A_URL"
C_ID=$SERVER_ID
C_PID=$SERVER_PID
C_LOG=$SERVER_LOG
export CIRCUIT_TEST_URL=$A_URL
wait_true 20 '[ "$(c ls / | grep -c "^/X")" = 3 ]'
tool=$CIRCUIT_BUILD_DIR/tests/tools/route_calls
[ -x "$tool" ] || fail "$tool is not built"
coproc RC { "$tool" "$A_URL" 2>&1; }
# bash unsets RC_PID as soon as the coprocess ends: keep our own copy.
ROUTE_PID=$RC_PID
t_track "$ROUTE_PID"
call() {
	echo "peek $1" >&"${RC[1]}"
	REPLY_LINE=
	read -r -t 20 REPLY_LINE <&"${RC[0]}" || fail "route_calls did not answer 'peek $1'"
}
for i in 1 2 3; do
	call "/$C_ID"
	[ "$REPLY_LINE" = ok ] || fail "peek $i of C through A: $REPLY_LINE"
done
last=$(grep '^{' "$C_LOG" | jq -r --arg p "/$C_ID" 'select(.op == "peek" and .path == $p) | .peer' |
	tail -n1)
first=$(grep '^{' "$C_LOG" | jq -r --arg p "/$C_ID" 'select(.op == "peek" and .path == $p) | .peer' |
	head -n1)
[ "$last" != "$first" ] || fail "the third call to C still came through A ($first)"
kill -KILL "$C_PID"
call "/$C_ID"
[[ "$REPLY_LINE" == error:* ]] || fail "a call on a lost direct connection said: $REPLY_LINE"
ok "a lost direct connection fails its call: $REPLY_LINE"
wait_true 30 '[ "$(c ls / | grep -c "^/X")" = 2 ]'
call "/$C_ID"
[[ "$REPLY_LINE" == *"no such server"* ]] || fail "after the loss, A should answer: $REPLY_LINE"
ok "the next call goes through A: $REPLY_LINE"
eval "exec ${RC[1]}>&-"
wait "$ROUTE_PID" || fail "route_calls failed"

# A keyed cluster: the direct connections are keyed too (B admits only
# holders of the key, so a direct call that arrives is a keyed one).
"$CIRCUIT_BIN" keygen "$T_TMP/key"
export CIRCUIT_HMAC=$T_TMP/key
two_servers --hmac "$T_TMP/key"
K=/$B_ID/keyed
c mkchan "$K" 10
KRELAY=$(grep '^{' "$B_LOG" | jq -r --arg p "$K" 'select(.op == "mk" and .path == $p) | .peer')
fifo "$A_URL" "$K" 2 2 4000
ktotal=$(($(count "$B_LOG" send "$K") + $(count "$B_LOG" recv "$K")))
krelayed=$(($(count "$B_LOG" send "$K" "$KRELAY") + $(count "$B_LOG" recv "$K" "$KRELAY")))
[ "$ktotal" -ge 8000 ] || fail "B logged $ktotal keyed sends and receives, wanted 8,000"
[ "$krelayed" -le 4 ] || fail "$krelayed of $ktotal keyed calls still went through A"
ok "keyed: 4,000 messages, $krelayed of $ktotal calls via A, the rest over keyed direct connections"
server_alive
