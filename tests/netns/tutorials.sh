#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The tutorials of docs/tutorials, Python and shell versions, run on three
# hosts: network namespaces on one bridge (itself in a namespace of its
# own), one circuitd each, found through multicast discovery only. Each
# host's circuitd is PID 1 of a PID namespace of its own (and has a host
# name of its own), so killing it takes everything it started with it, as
# a host that dies does.
#   - circuit.discover() from Python, in a namespace, lists all three;
#   - pipeline and waitall print what they should, on every server;
#   - twotier: redis on one host, the dns element on another, the client on
#     the third reads back what it stored;
#   - each watchbot hops; the server its nucleus is on is killed (SIGKILL)
#     and the bot goes on on the others; the host comes back; then the same
#     with its payload's server; stopped, nothing of it is left; with a
#     back channel, its reports are received in order on another host.
# After each tutorial `circuit ls -l /...` shows no element left.
# Needs root (namespaces); skipped (77) otherwise.
# shellcheck source=hosts.bash
source "$(dirname "$0")/hosts.bash"
netns_require ip unshare
source "$CIRCUIT_TESTLIB"

TUT=$CIRCUIT_SOURCE_DIR/docs/tutorials
PYDIR=$CIRCUIT_BUILD_DIR/python
PY=${CIRCUIT_PYTHON:-python3} # the interpreter the binding is built for
GROUP=228.8.21.21:7721
NET=10.78.21
N=3
URLS=() IDS=() PIDS=() WRAPPERS=()

# untrack PID: PID is reaped; lib.sh must not signal it (it may be reused).
untrack() {
	local keep=() p
	for p in "${T_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	T_PIDS=("${keep[@]}")
}

netns_cleanup() {
	local rc=$?
	set +e
	# Each circuitd (PID 1 of its host's PID namespace: its jobs go with it)
	# while its wrapper, our child, still runs (so the PID is still its);
	# lib.sh then stops the wrappers; the namespaces go last.
	for i in "${!WRAPPERS[@]}"; do
		kill -0 "${WRAPPERS[i]}" 2>/dev/null && kill -TERM "${PIDS[i]}" 2>/dev/null
	done
	t_stop_tracked
	netns_remove
	(exit $rc)
	t_cleanup
}
trap netns_cleanup EXIT

netns_bridge "tn$$" $N $NET
ok "$N namespaces on a bridge"

# cli I ARGS...: the CLI on host I, dialed into host I's server.
cli() {
	local i=$1
	shift
	on "$i" "$CIRCUIT_BIN" -d "${URLS[i]}" "$@"
}

# start_host I: circuitd on host I, PID 1 of a new PID namespace whose host
# name is tut-hostI; sets URLS[I], IDS[I], PIDS[I] (circuitd) and
# WRAPPERS[I] (unshare, which waits for it).
start_host() {
	local i=$1 out=$T_TMP/server$1.url
	: >"$out"
	ip netns exec "${NS[$((i - 1))]}" unshare --pid --fork --kill-child --mount-proc --uts \
		sh -c 'hostname "$0" && exec "$@"' "tut-host$i" \
		"$CIRCUITD_BIN" -if eth0 --discover "$GROUP" --insecure >"$out" 2>>"$T_TMP/server$i.log" &
	WRAPPERS[i]=$!
	t_track "${WRAPPERS[i]}"
	for _ in $(seq 1 200); do
		grep -q '^circuit://' "$out" 2>/dev/null && break
		kill -0 "${WRAPPERS[i]}" 2>/dev/null || break
		sleep 0.05
	done
	grep -q '^circuit://' "$out" || fail "host $i: circuitd printed no URL"
	URLS[i]=$(head -n1 "$out")
	IDS[i]=${URLS[i]##*/}
	read -r "PIDS[i]" <"/proc/${WRAPPERS[i]}/task/${WRAPPERS[i]}/children" || true # no newline
	[[ ${PIDS[i]} =~ ^[0-9]+$ ]] || fail "host $i: no single circuitd under unshare: '${PIDS[i]}'"
}

# kill_host I: SIGKILL to host I's circuitd, by PID: the host dies.
kill_host() {
	local i=$1 w=${WRAPPERS[$1]}
	kill -KILL "${PIDS[i]}"
	wait "$w" 2>/dev/null || true
	untrack "$w"
	unset "WRAPPERS[$i]" "PIDS[$i]"
	mapfile -t LIVE < <(printf '%s\n' "${LIVE[@]}" | grep -vx "$i")
}

# host_of ANCHOR: the host index of a server anchor (/X...).
host_of() {
	local i
	for i in "${LIVE[@]}"; do [ "/${IDS[i]}" = "$1" ] && { echo "$i"; return; }; done
	echo "?"
}
# anchors: the live servers' anchors, sorted.
anchors() {
	local i
	for i in "${LIVE[@]}"; do echo "/${IDS[i]}"; done | sort
}
# sees_all I: host I lists exactly the live servers.
sees_all() { [ "$(cli "$1" ls / 2>/dev/null | sort)" = "$(anchors)" ]; }
all_see_all() {
	local i
	for i in "${LIVE[@]}"; do sees_all "$i" || return 1; done
}

# nothing_left I WHAT: `circuit ls -l /...` on host I lists the live servers
# and nothing else.
nothing_left() {
	local out
	out=$(cli "$1" ls -l /...) || fail "$2: ls -l /... failed: $out"
	if grep -qv '^server ' <<<"$out"; then
		echo "$out" >&2
		fail "$2 left elements behind"
	fi
	[ "$(awk '{ print $2 }' <<<"$out" | sort)" = "$(anchors)" ] || fail "$2: ls -l /... lists: $out"
}

HAVE_PY=1
if [ ! -f "$PYDIR/circuit/__init__.py" ] || ! command -v "$PY" >/dev/null; then
	HAVE_PY=
	t_skip "the Python tutorials and circuit.discover: no Python binding in $PYDIR (or no $PY)"
fi
# py I ARGS...: $PY with the built binding, on host I (a hang guard).
py() {
	local i=$1
	shift
	local pre=()
	[ -z "${CIRCUIT_PY_PRELOAD:-}" ] || pre=(LD_PRELOAD="$CIRCUIT_PY_PRELOAD" ASAN_OPTIONS=detect_leaks=0)
	on "$i" env PYTHONPATH="$PYDIR" PYTHONDONTWRITEBYTECODE=1 "${pre[@]}" timeout 120 "$PY" "$@"
}
# tut I NAME ARGS...: the tutorial NAME (.py or .sh) run on host I, dialed
# into host I's server, stdout in $T_TMP/out, stderr in $T_TMP/err.
tut() {
	local i=$1 name=$2
	shift 2
	local rc=0
	case $name in
	*.py) py "$i" "$TUT/$name" -d "${URLS[i]}" "$@" ;;
	*) on "$i" env CIRCUIT_BIN="$CIRCUIT_BIN" timeout 120 bash "$TUT/$name" -d "${URLS[i]}" "$@" ;;
	esac >"$T_TMP/out" 2>"$T_TMP/err" || rc=$?
	[ "$rc" = 0 ] || { cat "$T_TMP/err" >&2; fail "$name $* exited $rc"; }
}
# variants NAME: the versions of tutorial NAME to run.
variants() {
	[ -z "$HAVE_PY" ] || echo "$1.py"
	echo "$1.sh"
}

LIVE=()
for i in $(seq 1 $N); do
	start_host "$i"
	LIVE+=("$i")
done
wait_until 20 all_see_all
ok "$N servers found each other by multicast"

# ---- circuit.discover() from Python, in a namespace.
if [ -n "$HAVE_PY" ]; then
	got=$(py 2 - "$GROUP" <<-'PY'
		import sys
		import warnings

		import circuit

		warnings.simplefilter("ignore", circuit.UnauthenticatedWarning)
		with circuit.discover(sys.argv[1], timeout=10) as c:
		    print("dialed", c.anchor)
		    for s in c.servers():
		        print(s)
		try:
		    circuit.discover("228.8.21.22:7722", timeout=2)
		    print("an unanswered group was dialed")
		except circuit.Error as e:
		    print("unanswered:", type(e).__name__)
	PY
	) || fail "discover from Python failed: $got"
	[ "$(grep '^/' <<<"$got")" = "$(anchors)" ] || fail "circuit.discover(...).servers() printed: $got"
	dialed=$(sed -n 's/^dialed //p' <<<"$got")
	[ "$(host_of "$dialed")" != "?" ] || fail "circuit.discover dialed $dialed, not one of the servers"
	grep -qx "unanswered: Unreachable" <<<"$got" || fail "an unanswered discover: $got"
	ok "circuit.discover($GROUP) in a namespace dials $dialed, whose servers() lists all $N"
fi

# ---- pipeline: sort | uniq -c | sort -n over the three servers.
awk 'BEGIN { srand(21); for (i = 0; i < 20000; i++) printf "w%d\n", int(rand() * 300) }' >"$T_TMP/words"
LC_ALL=C sort "$T_TMP/words" | uniq -c | sort -n >"$T_TMP/want"
for t in $(variants pipeline); do
	tut 1 "$t" "$T_TMP/words"
	# The stages run in the servers' locale: the same lines, in count order.
	cmp -s <(sort "$T_TMP/out") <(sort "$T_TMP/want") || fail "$t printed other counts than a local run"
	awk '{ print $1 }' "$T_TMP/out" | sort -c -n || fail "$t's output is not in count order"
	[ "$(grep -o ' on /X[0-9a-f]*$' "$T_TMP/err" | cut -c5- | sort)" = "$(anchors)" ] ||
		fail "$t's stages did not run one on each server: $(cat "$T_TMP/err")"
	nothing_left 1 "$t"
	ok "$t: $(wc -l <"$T_TMP/out") counts as a local run prints, one stage on each host, nothing left"
done

# ---- waitall: all, in the order they end; then the first only.
for t in $(variants waitall); do
	first=--first
	[[ $t == *.sh ]] && first=-first
	tut 2 "$t" 2.4 0.4 1.4
	order=$(awk '{ n = split($1, p, "/"); print p[n] }' "$T_TMP/out" | xargs)
	[ "$order" = "sleep1 sleep2 sleep0" ] || fail "$t ended in the order: $(cat "$T_TMP/out")"
	nothing_left 2 "$t"
	tut 2 "$t" "$first" 60 0.3 60
	order=$(awk '{ n = split($1, p, "/"); print p[n] }' "$T_TMP/out" | xargs)
	[ "$order" = sleep1 ] || fail "$t $first printed: $(cat "$T_TMP/out")"
	nothing_left 2 "$t $first"
	ok "$t: the three in the order they end; $first the first alone; nothing left (the 60 s sleeps scrubbed)"
done

# ---- twotier: redis, its name in a dns element, a client on a third host.
twotier=1
for tool in redis-server redis-cli dig; do
	command -v "$tool" >/dev/null || { twotier=; t_skip "twotier: no $tool (see .ci/deps)"; }
done
# A port of its own for each run: a scrubbed redis may still hold its port
# for a moment after its element is gone (the scrub does not wait).
port=6379
for t in $([ -z "$twotier" ] || variants twotier); do
	tut 3 "$t" --port $port
	redis=$(sed -n 's|^redis on \(/X[0-9a-f]*\) at \(.*\)$|\1 \2|p' "$T_TMP/err")
	dns=$(sed -n 's|^dns on \(/X[0-9a-f]*\) at \(.*\):[0-9]*$|\1 \2|p' "$T_TMP/err")
	client=$(sed -n 's|^client on \(/X[0-9a-f]*\)$|\1|p' "$T_TMP/err")
	r=$(host_of "${redis% *}") d=$(host_of "${dns% *}") k=$(host_of "$client")
	[ "$(printf '%s\n' "$r" "$d" "$k" | sort -u | grep -c '^[0-9]')" = 3 ] ||
		fail "$t: the tiers are not on three hosts: $(cat "$T_TMP/err")"
	[ "${redis#* }" = "$NET.$r:$port" ] || fail "$t: redis on host $r at ${redis#* }"
	[ "${dns#* }" = "$NET.$d" ] || fail "$t: the dns element on host $d at ${dns#* }"
	[ "$(cat "$T_TMP/out")" = "hello from tut-host$k" ] || fail "$t printed: $(cat "$T_TMP/out")"
	nothing_left 3 "$t"
	ok "$t: redis on host $r, its name on host $d, the client on host $k read back its value; nothing left"
	port=$((port + 1))
done

# ---- the watchbots: they hop; the host of a nucleus dies; they go on.
# bot NAME: the bot's processes, as host $VIEW lists them.
bot() {
	cli "$VIEW" ls -l /... 2>/dev/null | awk '$1 == "proc" { print $2 }' |
		grep -E "^/X[0-9a-f]+/$1/[0-9]+/(nucleus|payload)$"
}
# epoch NAME: the bot's latest epoch (-1: none).
epoch() { bot "$1" | awk -F/ 'BEGIN { e = -1 } $4 > e { e = $4 } END { print e }'; }
# pair NAME: "EPOCH NUCLEUS PAYLOAD" of an epoch whose nucleus and payload
# both run, if there is one.
pair() {
	bot "$1" | awk -F/ '{ role[$4 "/" $5] = $0; if ($4 > e) e = $4 }
		END { for (x = e; x >= 0; x--) if ((x "/nucleus") in role && (x "/payload") in role) {
			print x, role[x "/nucleus"], role[x "/payload"]; exit } }'
}
# all_live NAME: every process of the bot is on a live server.
all_live() {
	local p
	for p in $(bot "$1"); do [ "$(host_of "/$(cut -d/ -f2 <<<"$p")")" != "?" ] || return 1; done
}
# kill_under NAME ROLE: kills (SIGKILL) the host the ROLE ("nucleus" or
# "payload") of a running pair of bot NAME is on, checks that a later pair
# runs on the hosts left and that the bot goes on hopping; then starts that
# host again (a new server).
kill_under() {
	local name=$1 role=$2 e nucleus payload path victim later
	wait_true 30 '[ -n "$(pair "$name")" ]'
	read -r e nucleus payload <<<"$(pair "$name")"
	path=$nucleus
	[ "$role" = nucleus ] || path=$payload
	victim=$(host_of "/$(cut -d/ -f2 <<<"$path")")
	[ "$victim" != "?" ] || fail "$name: $path is on no live host"
	kill_host "$victim"
	VIEW=${LIVE[0]}
	wait_until 30 all_see_all
	wait_true 60 '[ "$(epoch "$name")" -gt $((e + 1)) ] && [ -n "$(pair "$name")" ] && all_live "$name"'
	# shellcheck disable=SC2034 # read by wait_true's eval
	later=$(epoch "$name")
	wait_true 60 '[ "$(epoch "$name")" -gt "$later" ] && all_live "$name"'
	ok "$name: killed host $victim (its $role $path, epoch $e); the bot went on to epoch $(epoch "$name") on hosts ${LIVE[*]}"
	start_host "$victim"
	LIVE+=("$victim")
	wait_until 30 all_see_all
}
for t in $(variants watchbot); do
	name=bot-${t#*.}
	VIEW=1
	tut 1 "$t" start --name "$name" --seconds 2
	[[ $(cat "$T_TMP/out") =~ ^/X[0-9a-f]+/$name/0/nucleus$ ]] || fail "$t start printed: $(cat "$T_TMP/out")"
	wait_true 60 '[ "$(epoch "$name")" -ge 2 ]'
	kill_under "$name" nucleus # the payload starts the next nucleus
	kill_under "$name" payload # the nucleus hops
	tut "$VIEW" "$t" stop --name "$name"
	nothing_left "$VIEW" "$t"
	ok "$t stop: nothing of the bot left"
done
# The back channel: each hop's report, received on another host, in order.
for t in $(variants watchbot); do
	name=rbot-${t#*.}
	VIEW=${LIVE[0]}
	chan=/${IDS[VIEW]}/reports-${t#*.}
	tut "$VIEW" "$t" start --name "$name" --seconds 0.5 --report "$chan"
	other=${LIVE[1]}
	for e in 0 1 2; do
		got=$(cli "$other" -timeout 30s recv "$chan") || fail "$t: no report $e on $chan"
		[[ $got =~ ^"epoch $e: payload /X"[0-9a-f]+"/$name/$e/payload exited 0"$ ]] ||
			fail "$t: report $e was: $got"
	done
	tut "$VIEW" "$t" stop --name "$name" --report "$chan"
	nothing_left "$VIEW" "$t --report"
	ok "$t --report: three reports in order, received on host $other; stopped, nothing left"
done
for i in "${LIVE[@]}"; do nothing_left "$i" "the tutorials (seen from host $i)"; done
ok "the tutorials left nothing on any server"
