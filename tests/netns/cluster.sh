#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Four hosts in network namespaces on one bridge (itself in a namespace of
# its own, so the host's firewall and interfaces are never touched), one
# circuitd each, found through multicast discovery only:
#   - the seed runs `circuit start -if eth0 -discover 228.8.8.8:7711`;
#   - all four see each other; a client finds a server with -discover;
#   - 20% loss on every host's link for 2 minutes: nobody leaves anybody's view;
#   - a partition into two halves is detected on both sides and heals by
#     itself once lifted.
# Needs root (namespaces, iptables); skipped (77) otherwise.
source "$(dirname "$0")/hosts.bash"
netns_require ip iptables
source "$CIRCUIT_TESTLIB"

GROUP=228.8.8.8:7711
N=4

netns_cleanup() {
	local rc=$?
	set +e
	# The servers first (by PID, through lib.sh's list), then the namespaces,
	# which takes their links with them.
	for pid in "${T_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${T_PIDS[@]}"; do
		for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	netns_remove
	(exit $rc)
	t_cleanup
}
trap netns_cleanup EXIT

netns_bridge "cn$$" $N 10.77.0
if ! ip netns exec "${NS[0]}" iptables -A INPUT -i eth0 -m statistic --mode random \
	--probability 0.2 -j DROP 2>/dev/null; then
	echo "SKIP: iptables has no statistic match here"
	exit 77
fi
ip netns exec "${NS[0]}" iptables -F INPUT
ok "4 namespaces on a bridge"

URLS=()
start_host() {
	local i=$1; shift
	local out="$T_TMP/server$i.url"
	# Not through `on` (a function: $! would be a subshell, and killing it
	# would leave circuitd running): ip execs the command, which keeps the PID
	# ($! is circuitd itself; `circuit start` execs circuitd too).
	ip netns exec "${NS[$((i - 1))]}" "$@" >"$out" 2>"$T_TMP/server$i.log" &
	t_track $!
	for _ in $(seq 1 200); do
		grep -q '^circuit://' "$out" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '^circuit://' "$out" || fail "host $i: circuitd printed no URL"
	URLS[$i]=$(head -n1 "$out")
}
# peek_members I: the Members count of host I's server, asked from host I.
peek_members() { server_field "${URLS[$1]}" Members on "$1"; }
# all_members_are N I...: each of hosts I... counts N members, asked from itself.
all_members_are() {
	local want=$1; shift
	for i in "$@"; do members_are "${URLS[$i]}" "$want" on "$i" || return 1; done
}

# The seed exactly as an operator types it; the others add faster reconnects
# (a dead member is retried every 5 s instead of 30) so the heal is quick.
start_host 1 "$CIRCUIT_BIN" start -if eth0 -discover "$GROUP" --insecure
for i in 2 3 4; do
	start_host "$i" "$CIRCUITD_BIN" -v -if eth0 --discover "$GROUP" --insecure --reconnect-interval 5000
done
[[ ${URLS[1]} == circuit://10.77.0.1:11022/* ]] || fail "seed URL ${URLS[1]}"
wait_until 15 all_members_are 4 1 2 3 4
ok "all 4 servers found each other by multicast beacons alone"

for i in 1 2 3 4; do
	n=$(on "$i" "$CIRCUIT_BIN" -d "${URLS[$i]}" ls / | grep -c '^/X')
	[ "$n" = 4 ] || fail "ls / on host $i lists $n servers"
done
ok "ls / on every host lists 4 servers"

out=$(on 3 "$CIRCUIT_BIN" -discover "$GROUP" ls /)
[ "$(grep -c '^/X' <<<"$out")" = 4 ] || fail "circuit -discover ls / printed: $out"
url=$(on 2 env CIRCUIT_DISCOVER="$GROUP" "$CIRCUIT_BIN" ls / | head -n1)
[[ $url == /X* ]] || fail "\$CIRCUIT_DISCOVER ls / printed: $url"
start=$(date +%s%N)
expect_fail 3 "no circuit server answered on 228.8.8.8:7712 within 2 s" \
	on 2 "$CIRCUIT_BIN" -discover 228.8.8.8:7712 ls /
elapsed=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed" -lt 4000 ] || fail "an unanswered -discover took $elapsed ms"
ok "a client finds a server with -discover and \$CIRCUIT_DISCOVER; nothing answering fails in 2 s"

# ---- 20% loss on every link for 2 minutes: nobody leaves.
leaves_before=$(cat "$T_TMP"/server*.log | grep -c ' left at ' || true)
for i in 1 2 3 4; do
	on "$i" iptables -A INPUT -i eth0 -m statistic --mode random --probability 0.2 -j DROP
done
end=$((SECONDS + 120))
polls=0
slowest=0
while [ $SECONDS -lt $end ]; do
	t0=$(date +%s%N)
	for i in 1 2 3 4; do
		n=$(peek_members "$i" 2>/dev/null || echo "?")
		[ "$n" = 4 ] || [ "$n" = "?" ] || fail "host $i sees $n members under 20% loss"
	done
	polls=$((polls + 1))
	t=$((($(date +%s%N) - t0) / 1000000))
	[ "$t" -le "$slowest" ] || slowest=$t
	sleep 2
done
leaves=$(cat "$T_TMP"/server*.log | grep -c ' left at ' || true)
[ "$leaves" = "$leaves_before" ] || {
	grep ' left at ' "$T_TMP"/server*.log >&2
	fail "members left under 20% loss"
}
all_members_are 4 1 2 3 4 || fail "the view shrank under loss"
for i in 1 2 3 4; do on "$i" iptables -F INPUT; done
ok "20% loss for 2 minutes: every server kept all 4 members ($polls polls of all 4, slowest ${slowest} ms; no leave)"

# ---- A partition into {1,2} and {3,4} is detected, then heals by itself.
for i in 1 2; do for j in 3 4; do on "$i" iptables -A INPUT -s "10.77.0.$j" -j DROP; done; done
for i in 3 4; do for j in 1 2; do on "$i" iptables -A INPUT -s "10.77.0.$j" -j DROP; done; done
start=$SECONDS
wait_until 60 all_members_are 2 1 2 3 4
ok "partition detected on both sides in $((SECONDS - start)) s (2 members each)"
for i in 1 2 3 4; do on "$i" iptables -F INPUT; done
start=$SECONDS
wait_until 90 all_members_are 4 1 2 3 4
ok "partition healed by itself in $((SECONDS - start)) s"
