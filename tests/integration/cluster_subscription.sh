#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# integration/cluster_subscription: @join and @leave across three servers
# joined with -j on 127.0.0.1 (docs/subscription.md). Each @join reports
# every member; a server that joins later is reported by every @join; a
# server killed with SIGKILL yields exactly one @leave event naming it on
# every @leave subscription, including one whose client was blocked in recv.
source "$CIRCUIT_TESTLIB"
source "$CIRCUIT_SOURCE_DIR/tests/plugins/chan/chanlib.sh"

# on N ARGS...: the CLI dialed into server N (bounded: must not block).
declare -a URL ID PID
on() { local n=$1; shift; timeout 20 "$CIRCUIT_BIN" -d "${URL[$n]}" "$@"; }
# peek_on N PATH FIELD: one scalar field of peek on server N.
peek_on() { CIRCUIT_TEST_URL=${URL[$1]} pf "$2" "$3"; }
peek_on_is() { [ "$(peek_on "$1" "$2" "$3")" = "$4" ]; }
listed_on() { on "$1" ls / | sort | tr '\n' ' '; }
# lists_exactly N LIST: server N lists exactly LIST (evaluated at each poll).
lists_exactly() { [ "$(listed_on "$1")" = "$2" ]; }

start_server
URL[1]=$SERVER_URL ID[1]=$SERVER_ID PID[1]=$SERVER_PID
for n in 2 3; do
	start_server -j "${URL[1]}"
	URL[$n]=$SERVER_URL ID[$n]=$SERVER_ID PID[$n]=$SERVER_PID
done
ALL=$(printf '/%s\n' "${ID[1]}" "${ID[2]}" "${ID[3]}" | sort | tr '\n' ' ')
for n in 1 2 3; do wait_until 30 lists_exactly "$n" "$ALL"; done
ok "three servers see each other"

for n in 1 2 3; do
	on "$n" mk@join "/${ID[$n]}/join"
	on "$n" mk@leave "/${ID[$n]}/leave"
done
for n in 1 2 3; do
	got=$(for _ in 1 2 3; do on "$n" recv "/${ID[$n]}/join"; done | sort | tr '\n' ' ')
	[ "$got" = "$ALL" ] || fail "@join on server $n reported '$got', wanted '$ALL'"
	[ "$(peek_on "$n" "/${ID[$n]}/join" Pending)" = 0 ] || fail "@join on server $n has more"
	[ "$(peek_on "$n" "/${ID[$n]}/leave" Pending)" = 0 ] || fail "@leave on $n is not empty"
done
ok "every new @join reports the three members, itself included"

# A fourth server joins: every @join reports it.
start_server -j "${URL[2]}"
URL[4]=$SERVER_URL ID[4]=$SERVER_ID PID[4]=$SERVER_PID
for n in 1 2 3; do
	[ "$(on "$n" recv "/${ID[$n]}/join")" = "/${ID[4]}" ] ||
		fail "@join on server $n did not report the new server ${ID[4]}"
done
ok "a server that joins later is reported by every @join"
on 4 mk@leave "/${ID[4]}/leave"

# A client blocked in recv on server 1's @leave, before the kill.
CIRCUIT_TEST_URL=${URL[1]} bg blocked recv "/${ID[1]}/leave"
B=$BG_PID
wait_until 20 peek_on_is 1 "/${ID[1]}/leave" WaitingReceivers 1
still_blocked "$B" "recv on @leave with every server alive"

kill -KILL "${PID[3]}"
bg_expect "$B" blocked 0
[ "$(cat "$T_TMP/blocked.out")" = "/${ID[3]}" ] ||
	fail "the blocked recv got '$(cat "$T_TMP/blocked.out")', wanted /${ID[3]}"
for n in 2 4; do
	wait_until 30 peek_on_is "$n" "/${ID[$n]}/leave" Seq 1
	[ "$(on "$n" recv "/${ID[$n]}/leave")" = "/${ID[3]}" ] ||
		fail "@leave on server $n did not name the killed server ${ID[3]}"
done
ok "the killed server yields an @leave event naming it on every subscription"

# Exactly one: by the time every survivor has dropped it from its view,
# no subscription has seen a second event, nor an @join a rejoin.
SURV=$(printf '/%s\n' "${ID[1]}" "${ID[2]}" "${ID[4]}" | sort | tr '\n' ' ')
for n in 1 2 4; do wait_until 30 lists_exactly "$n" "$SURV"; done
sleep 3
for n in 1 2 4; do
	for f in "Seq 1" "Pending 0" "NumRecv 1" "Dropped 0"; do
		set -- $f
		v=$(peek_on "$n" "/${ID[$n]}/leave" "$1")
		[ "$v" = "$2" ] || fail "@leave on server $n: $1 is $v, wanted $2"
	done
done
for n in 1 2; do
	v=$(peek_on "$n" "/${ID[$n]}/join" Pending)
	[ "$v" = 0 ] || fail "@join on server $n has $v unexpected event(s)"
done
ok "exactly one @leave per subscription; no duplicates"
server_alive
