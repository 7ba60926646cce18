#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hostile membership input (issue 14, findings 4 and 5), on 127.0.0.1 only,
# forged by tests/integration/member_forge.py: a claim at incarnation
# 0xFFFFFFFF, a member's address re-pointed by one datagram, a PING_REQ
# naming a stranger's address, a flood of invented members (unkeyed), and
# forged ICMP port-unreachable errors against a keyed pair (root only: raw
# socket). None of it may drop a live member from a view or reach beyond the
# datagram that carries it; a really killed server still drops out.
source "$CIRCUIT_TESTLIB"
FORGE=(python3 "$(dirname "$0")/member_forge.py")

peek_field() {
	local url=$1 field=$2
	shift 2
	"$CIRCUIT_BIN" -d "$url" "$@" peek "/${url##*/}" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]] if len(sys.argv) < 3 else d[sys.argv[1]][sys.argv[2]])' "$field" ${SUB:+"$SUB"}
}
claims() { SUB=$2 peek_field "$1" ClaimsRejectedBy; }
port_of() { local p=${1#circuit://127.0.0.1:}; echo "${p%%/*}"; }
# still_two URL ID SECONDS [CLI flags]: for SECONDS (polled every 0.1 s), the
# server at URL lists 2 members and a forwarded peek of ID succeeds.
still_two() {
	local url=$1 id=$2 secs=$3
	shift 3
	for _ in $(seq 1 $((secs * 10))); do
		[ "$(peek_field "$url" Members "$@")" = 2 ] || fail "$url lost a live member"
		"$CIRCUIT_BIN" -d "$url" "$@" peek "/$id" >/dev/null || fail "forwarding to $id failed"
		sleep 0.1
	done
}

start_server -v
S1=$SERVER_URL
ID1=$SERVER_ID
P1=$(port_of "$S1")
LOG1=$SERVER_LOG
start_server -v -j "$S1"
S2=$SERVER_URL
ID2=$SERVER_ID
P2=$(port_of "$S2")
wait_true 10 '[ "$(peek_field "$S1" Members)" = 2 ] && [ "$(peek_field "$S2" Members)" = 2 ]'

# ---- Finding 4: incarnation 0xFFFFFFFF. The victim hears SUSPECT, the
# other server DEAD; before, the refutation wrapped to 0 and S2 was dead
# in S1's view for good.
"${FORGE[@]}" send "$P2" "suspect:$ID2,0xFFFFFFFF,0x66"
"${FORGE[@]}" send "$P1" "dead:$ID2,0xFFFFFFFF,0x66"
still_two "$S1" "$ID2" 3
[ "$(peek_field "$S2" Members)" = 2 ] || fail "S2 lost S1"
[ "$(claims "$S1" stale-incarnation)" -ge 1 ] || fail "the claim was not counted as stale"
ok "a claim at incarnation 0xFFFFFFFF is stale: no eviction, no wrap"

# ---- Finding 4: datagrams re-point S2's address to ours (a claim every
# 20 ms, each a higher incarnation); we never answer the proof pings, so S1
# must keep S2's address: forwarding keeps working, and S1 sends us at most
# one proof ping per probe period. Before, S1 moved S2 at once and lost it.
INC2=$(peek_field "$S2" Incarnation)
"${FORGE[@]}" repoint "$P1" "$ID2" $((INC2 + 5)) 3 >"$T_TMP/pings" &
FORGE_PID=$!
t_track "$FORGE_PID"
still_two "$S1" "$ID2" 3
wait "$FORGE_PID" || fail "member_forge.py repoint failed"
pings=$(cat "$T_TMP/pings")
[ "$pings" -le 6 ] || fail "S1 kept talking to the claimed address: $pings pings"
[ "$(claims "$S1" unproven-move)" -ge 1 ] || fail "unproven moves not counted"
ok "unproven address changes are not applied ($pings proof pings, unanswered)"

# ---- Finding 4: PING_REQ for a stranger must not make S1 ping its address.
got=$("${FORGE[@]}" pingreq "$P1" X0000000000001234 1.5)
[ "$got" = 0 ] || fail "S1 pinged the address a PING_REQ named ($got datagrams)"
[ "$(claims "$S1" unknown-ping-req)" -ge 1 ] || fail "the PING_REQ was not counted"
ok "PING_REQ only for known members"

# ---- Finding 4: the member table is bounded (4,096 by default, this server
# included); one log line, not one per refused member.
"${FORGE[@]}" flood "$P1" 4300 1
wait_true 10 '[ "$(peek_field "$S1" Members)" -ge 4000 ]'
n=$(peek_field "$S1" Members)
[ "$n" -le 4096 ] || fail "S1 holds $n members"
[ "$(claims "$S1" table-full)" -ge 1 ] || fail "refused members not counted"
[ "$(grep -c 'member table full' "$LOG1")" = 1 ] || fail "table-full log line not rate-limited"
server_alive
ok "4,300 invented members: the table stops at $n, one log line, still serving"

# ---- Finding 5: forged ICMP port-unreachable against a keyed pair.
"$CIRCUIT_BIN" keygen "$T_TMP/k"
chmod 600 "$T_TMP/k"
start_server -v --hmac "$T_TMP/k"
K1=$SERVER_URL
KP1=$(port_of "$K1")
start_server -v --hmac "$T_TMP/k" -j "$K1"
K2=$SERVER_URL
KID2=$SERVER_ID
KPID2=$SERVER_PID
KP2=$(port_of "$K2")
H=(-hmac "$T_TMP/k")
wait_true 10 '[ "$(peek_field "$K1" Members "${H[@]}")" = 2 ] && [ "$(peek_field "$K2" Members "${H[@]}")" = 2 ]'
rc=0
"${FORGE[@]}" icmp "$KP1" "$KP2" 1 0 || rc=$?
if [ "$rc" = 77 ]; then
	ok "# SKIP forged ICMP: needs root (raw socket)"
	exit 0
fi
[ "$rc" = 0 ] || fail "member_forge.py icmp failed"
"${FORGE[@]}" icmp "$KP1" "$KP2" 20 0.15 &
FORGE_PID=$!
t_track "$FORGE_PID"
still_two "$K1" "$KID2" 3 "${H[@]}"
wait "$FORGE_PID" || fail "member_forge.py icmp failed"
[ "$(peek_field "$K1" IcmpUnreachable "${H[@]}")" -ge 5 ] || fail "the forged ICMP errors did not reach K1"
[ "$(peek_field "$K2" Incarnation "${H[@]}")" = 0 ] || fail "K2 had to refute a death"
ok "21 forged ICMP port-unreachable: a probe each time, K2 answered, nobody left"

# A real crash (kill -9: its port refuses) still drops out; hang guard only.
kill -KILL "$KPID2"
wait "$KPID2" 2>/dev/null || true
wait_true 20 '[ "$(peek_field "$K1" Members "${H[@]}")" = 1 ]'
ok "a killed server is still declared dead (its port refuses and its probe fails)"
