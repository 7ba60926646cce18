#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Liveness (issue 15, finding 3): a host or link that vanishes without the
# kernel saying so (no FIN, no RST: every packet black-holed by iptables) is
# noticed within seconds, not the quarter of an hour TCP retransmits for.
#  1. A receiver whose host vanished while it held a message: the server
#     gives the message back, and another receiver gets it.
#  2. A black-holed link between a relay and the owner: a relayed call
#     blocked on it fails with exit 3, and so does a new one.
# The rules match the vanished client's group, or the owner's TCP port, in a
# network namespace this test makes for itself (loopback only). Detection
# times are printed, and asserted only as "before the test's hang guard".
# Needs root; skipped (77) otherwise.
# shellcheck source=hosts.bash
source "$(dirname "$0")/hosts.bash"
netns_require iptables setpriv unshare
if [ -z "${LIVENESS_NETNS:-}" ]; then
	unshare -n true 2>/dev/null || { echo "SKIP: cannot create network namespaces here"; exit 77; }
	exec unshare -n env LIVENESS_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
source "$CIRCUIT_TESTLIB"
GID=4243
GUARD=60 # seconds: the hang guard, far above the 10 s liveness default

start_server --plugins=chan
S=$SERVER_ID S_URL=$SERVER_URL
cs() { "$CIRCUIT_BIN" -d "$S_URL" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# 1. The receiver's host vanishes while it holds a 4 MiB message.
cs mkchan /$S/q -max 8M 1
head -c $((4 << 20)) /dev/urandom >"$T_TMP/msg"
cs send /$S/q <"$T_TMP/msg"
mkfifo "$T_TMP/stuck"
setpriv --regid="$GID" --clear-groups -- "$CIRCUIT_BIN" -d "$S_URL" recv /$S/q >"$T_TMP/stuck" &
t_track $!
exec 7<"$T_TMP/stuck" # opened, never read: the receiver stops reading its socket
sleep 1
iptables -A OUTPUT -m owner --gid-owner "$GID" -j DROP
t0=$(now)
cs recv /$S/q >"$T_TMP/got" &
second=$!
t_track "$second"
for _ in $(seq 1 $((GUARD * 10))); do kill -0 "$second" 2>/dev/null || break; sleep 0.1; done
kill -0 "$second" 2>/dev/null && fail "the message was still held by the vanished receiver after ${GUARD}s"
wait "$second" || fail "the second receiver failed"
cmp -s "$T_TMP/msg" "$T_TMP/got" || fail "the second receiver did not get the message whole"
echo "figure: a vanished receiver host was detected and its message given back in $(since "$t0") s"
iptables -D OUTPUT -m owner --gid-owner "$GID" -j DROP
exec 7<&-
ok "a receiver whose host vanished gives its message back within seconds"

# 2. The link between a relay A and the owner B is black-holed.
start_server --plugins=chan
B=$SERVER_ID B_URL=$SERVER_URL
B_PORT=$(echo "$B_URL" | sed -n 's|^circuit://[^/]*:\([0-9]*\)/.*|\1|p')
start_server --plugins=chan -j "$B_URL"
A_URL=$SERVER_URL
ca() { "$CIRCUIT_BIN" -d "$A_URL" "$@"; }
wait_true 20 '[ "$(ca ls / | grep -c "^/X")" -ge 2 ]'
ca mkchan /$B/q 0
ca recv /$B/q 2>"$T_TMP/blocked.err" &
blocked=$!
t_track "$blocked"
sleep 1
iptables -A INPUT -p tcp --dport "$B_PORT" -j DROP
iptables -A INPUT -p tcp --sport "$B_PORT" -j DROP
t0=$(now)
for _ in $(seq 1 $((GUARD * 10))); do kill -0 "$blocked" 2>/dev/null || break; sleep 0.1; done
kill -0 "$blocked" 2>/dev/null && fail "a relayed recv stayed blocked on a black-holed link for ${GUARD}s"
rc=0; wait "$blocked" || rc=$?
[ "$rc" = 3 ] || fail "the relayed recv on a black-holed link exited $rc: $(cat "$T_TMP/blocked.err")"
echo "figure: a black-holed peer link was detected in $(since "$t0") s: $(cat "$T_TMP/blocked.err")"
# A new relayed call while the link is still black-holed: a fresh
# connection cannot be made, and the call says so before the guard.
t0=$(now)
rc=0; timeout "$GUARD" "$CIRCUIT_BIN" -d "$A_URL" peek /$B/q >/dev/null 2>"$T_TMP/new.err" || rc=$?
[ "$rc" != 124 ] || fail "a new relayed call hung for ${GUARD}s on a black-holed link"
[ "$rc" = 3 ] || [ "$rc" = 1 ] || fail "a new relayed call exited $rc: $(cat "$T_TMP/new.err")"
echo "figure: a new relayed call on the black-holed link failed in $(since "$t0") s (exit $rc): $(cat "$T_TMP/new.err")"
iptables -D INPUT -p tcp --dport "$B_PORT" -j DROP
iptables -D INPUT -p tcp --sport "$B_PORT" -j DROP
ok "a black-holed link between servers fails relayed calls within seconds"
