#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A client that cannot reach the server its calls are for keeps working
# through the server it dialed (docs/routing.md): with its connections to B
# silently dropped (a firewall, NAT) and then refused, a libcircuit client
# dialed into A moves every message exactly once, all of its calls relayed
# by A; once the way is open, a new client goes straight to B.
# The firewall rules match the client's group (the servers run as root's),
# in a network namespace this test makes for itself (loopback only), so the
# host's firewall is never touched. Needs root; skipped (77) otherwise.
# shellcheck source=hosts.bash
source "$(dirname "$0")/hosts.bash"
netns_require iptables setpriv unshare jq
if [ -z "${ROUTES_NETNS:-}" ]; then
	unshare -n true 2>/dev/null || { echo "SKIP: cannot create network namespaces here"; exit 77; }
	# The namespace ends with its last process: nothing to remove afterwards.
	exec unshare -n env ROUTES_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
source "$CIRCUIT_TESTLIB"
helper=$CIRCUIT_BUILD_DIR/tests/plugins/chan/chan_fifo
[ -x "$helper" ] || fail "$helper is not built (cmake --build the tree first)"
GID=4242

start_server --plugins=chan
B_ID=$SERVER_ID
B_LOG=$SERVER_LOG
B_URL=$SERVER_URL
B_PORT=$(echo "$B_URL" | sed -n 's|^circuit://[^/]*:\([0-9]*\)/.*|\1|p')
[ -n "$B_PORT" ] || fail "no port in $B_URL"
start_server --plugins=chan -j "$B_URL"
A_URL=$SERVER_URL
wait_true 20 '[ "$(c ls / | grep -c "^/X")" = 2 ]'

# count OP PATH [PEER]: B's op log lines for OP on PATH (from PEER only).
count() { grep '^{' "$B_LOG" | jq -r --arg op "$1" --arg p "$2" --arg peer "${3:-}" \
	'select(.op == $op and .path == $p and ($peer == "" or .peer == $peer)) | .peer' |
	wc -l; }
# hits: packets the firewall rule matched so far.
hits() { iptables -L OUTPUT -v -n -x | awk -v g="$GID" '$0 ~ "GID match " g { print $1 }'; }

# through_a NAME RULE...: with the rule in place, a client of group GID
# dialed into A moves 4,000 messages over /B/NAME; all its calls must come
# through A, and it must have tried B (the rule matched).
through_a() {
	local name=$1; shift
	local p=/$B_ID/$name
	c mkchan "$p" 10
	local relay
	relay=$(grep '^{' "$B_LOG" | jq -r --arg p "$p" 'select(.op == "mk" and .path == $p) | .peer')
	iptables -A OUTPUT -p tcp --dport "$B_PORT" -m owner --gid-owner "$GID" "$@"
	setpriv --regid="$GID" --clear-groups -- "$helper" "$A_URL" "$p" 2 2 4000 &
	local h=$!
	t_track "$h"
	local rc=0
	wait "$h" || rc=$?
	[ "$rc" = 0 ] || fail "$name: chan_fifo reported lost, doubled or corrupt messages"
	local n
	n=$(hits)
	[ "${n:-0}" -gt 0 ] || fail "$name: the client never tried to reach B directly"
	iptables -D OUTPUT -p tcp --dport "$B_PORT" -m owner --gid-owner "$GID" "$@"
	local total relayed
	total=$(($(count send "$p") + $(count recv "$p")))
	relayed=$(($(count send "$p" "$relay") + $(count recv "$p" "$relay")))
	[ "$total" -ge 8000 ] || fail "$name: B logged $total sends and receives, wanted 8,000"
	[ "$relayed" = "$total" ] ||
		fail "$name: $((total - relayed)) calls reached B other than through A"
	ok "$name: 4,000 messages exactly once, all $total calls relayed by A ($n packets to B dropped or refused)"
}

through_a dropped -j DROP
through_a refused -j REJECT --reject-with tcp-reset

# The way open again: the same client goes straight to B after its first call.
P=/$B_ID/open
c mkchan "$P" 10
RELAY=$(grep '^{' "$B_LOG" | jq -r --arg p "$P" 'select(.op == "mk" and .path == $p) | .peer')
setpriv --regid="$GID" --clear-groups -- "$helper" "$A_URL" "$P" 2 2 4000 &
H=$!
t_track "$H"
wait "$H" || fail "open: chan_fifo reported lost, doubled or corrupt messages"
relayed=$(($(count send "$P" "$RELAY") + $(count recv "$P" "$RELAY")))
[ "$relayed" -le 4 ] || fail "open: $relayed calls still went through A"
ok "open: $relayed calls through A, the rest straight to B"
server_alive
