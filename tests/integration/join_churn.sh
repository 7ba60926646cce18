#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# integration/join_churn: joins that spread under churn (issue 15, finding
# 8). Three servers A, B, C on 127.0.0.1; each round a new server R joins
# A and is then SIGTERMed, so every round leaves one more departed member
# in every view. B and C must learn of every R (ls /, @join) and report
# every departure (@leave), also of an R that leaves as soon as A knows it.
# Before the fix a join reached B and C only with the next push-pull (up to
# 30 s) in about a third of the rounds, and a quick leaver's @leave was
# never reported. No wall-clock time is asserted: the waits are hang
# guards; the propagation times are printed as "figure:" lines.
source "$CIRCUIT_TESTLIB"

ROUNDS=${JOIN_CHURN_ROUNDS:-14}
declare -a URL ID PID
# on N ARGS...: the CLI dialed into server N (bounded: must not block).
on() { local n=$1; shift; timeout 20 "$CIRCUIT_BIN" -d "${URL[$n]}" "$@"; }
# knows N ID: server N lists /ID as a member.
knows() { on "$1" ls / 2>/dev/null | grep -qx "/$2"; }
# pending N PATH: messages waiting in a subscription on server N.
pending() {
	on "$1" peek "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Pending"])'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# stop PID: SIGTERM (a graceful leave) and wait, bounded, until it exited.
stop() {
	kill -TERM "$1"
	for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
	fail "server $1 did not exit within 10 s of SIGTERM"
}

start_server
URL[1]=$SERVER_URL ID[1]=$SERVER_ID PID[1]=$SERVER_PID
for n in 2 3; do
	start_server -j "${URL[1]}"
	URL[$n]=$SERVER_URL ID[$n]=$SERVER_ID PID[$n]=$SERVER_PID
done
for n in 1 2 3; do
	for m in 1 2 3; do wait_true 40 "knows $n ${ID[$m]}"; done
done
for n in 2 3; do
	on "$n" mk@join "/${ID[$n]}/join"
	on "$n" mk@leave "/${ID[$n]}/leave"
	for _ in 1 2 3; do on "$n" recv "/${ID[$n]}/join" >/dev/null; done
done
ok "A, B and C see each other; @join and @leave on B and C"

# Even rounds measure how long B and C take to list R; odd rounds stop R as
# soon as A lists it (before B or C could have heard of it by chance).
RIDS=()
TOOK=()
for round in $(seq 1 "$ROUNDS"); do
	t0=$(now_ms)
	start_server -j "${URL[1]}"
	R=$SERVER_ID RP=$SERVER_PID
	RIDS+=("$R")
	if [ $((round % 2)) = 1 ]; then
		wait_true 20 "knows 1 $R"
		stop "$RP"
		echo "round $round: R=$R left as soon as A knew it"
		continue
	fi
	# Hang guard only: past a push-pull period (30 s + 25% jitter).
	wait_true 45 "knows 2 $R && knows 3 $R"
	t=$(($(now_ms) - t0))
	TOOK+=("$t")
	echo "round $round: R=$R known to B and C after $t ms"
	stop "$RP"
done

sorted=$(printf '%s\n' "${TOOK[@]}" | sort -n)
median=$(sed -n "$(((${#TOOK[@]} + 1) / 2))p" <<<"$sorted")
worst=$(tail -n1 <<<"$sorted")
echo "figure: loopback join-churn rounds=${#TOOK[@]} median_ms=$median worst_ms=$worst" \
	"(R started to listed by B and C, with up to $ROUNDS departed members in view)"

# Every R was reported by @join and @leave on B and C, quick leavers too.
want=$(printf '/%s\n' "${RIDS[@]}" | sort | tr '\n' ' ')
for n in 2 3; do
	for sub in join leave; do
		path="/${ID[$n]}/$sub"
		# Hang guard: with nothing missing these are all there at once.
		for _ in $(seq 1 400); do
			[ "$(pending "$n" "$path")" -ge "$ROUNDS" ] && break
			sleep 0.05
		done
		have=$(pending "$n" "$path")
		got=$(for _ in $(seq 1 "$have"); do on "$n" recv "$path"; done | sort | tr '\n' ' ')
		[ "$got" = "$want" ] ||
			fail "@$sub on server $n reported $have of $ROUNDS: '$got', wanted '$want'"
	done
done
ok "@join and @leave on B and C reported all $ROUNDS joiners, quick leavers included"
