#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# watchbot.sh [-d URL] start|stop [--name NAME] [--seconds S] [--report CHAN]:
# watchbot.py with the circuit tool. A nucleus (this script, run by the circuit) starts
# a payload (this script again, running `sleep S`) on another server and
# waits for it; when the payload ends, or its server dies, the nucleus
# starts the next epoch's nucleus on a third server and exits. The payload
# watches its nucleus in turn and starts the next nucleus itself when the
# nucleus's server dies. Anchors carry the epoch, /X.../NAME/EPOCH/nucleus
# and .../payload; a nucleus whose payload runs scrubs what is left of the
# epochs before it. `stop` marks every server (/X.../NAME/stop, an empty
# channel), ends the payloads, waits until nothing is left, removes the marks.
# With --report CHAN each nucleus sends "epoch E: payload PATH exited N" (or
# "lost (...)") on the channel CHAN (made unbuffered if it is not there)
# before it hops, and waits until someone receives it; stop removes CHAN.
# The bot's processes run this script by the same path, with the same bash
# and circuit tool ($CIRCUIT_BIN, else `circuit` on PATH): on a real cluster,
# install both at the same paths on every host.
set -uo pipefail
circuit=$(command -v "${CIRCUIT_BIN:-circuit}") || {
	echo "watchbot.sh: no circuit tool (${CIRCUIT_BIN:-circuit})" >&2
	exit 2
}
script=$(readlink -f "$0")
dial=()
if [ "${1:-}" = -d ]; then dial=(-d "$2"); shift 2; fi
usage() {
	echo "usage: watchbot.sh [-d URL] start|stop [--name NAME] [--seconds S] [--report CHAN]" >&2
	exit 2
}
[ $# -gt 0 ] || usage
cmd=$1
shift
name=watchbot seconds=5 epoch=0 nucleus='' report=''
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case "$1" in
	--name) name=$2 ;;
	--seconds) seconds=$2 ;;
	--epoch) epoch=$2 ;;
	--nucleus) nucleus=$2 ;;
	--report) report=$2 ;;
	*) usage ;;
	esac
	shift 2
done
c() { "$circuit" "${dial[@]}" "$@"; }
# The dialed server's anchor, when the URL names it (the bot's own
# processes are always given their server's URL).
me=
if [[ ${dial[1]:-} == circuit://* ]]; then me=/${dial[1]##*/}; fi

servers() { c ls / | grep '^/X'; }
# server_of PATH: the anchor of the server PATH is on.
server_of() { echo "/$(cut -d/ -f2 <<<"$1")"; }
# epoch_of PATH: the epoch in /X.../NAME/EPOCH/ROLE.
epoch_of() { cut -d/ -f4 <<<"$1"; }

# stopped: whether a stop mark is on the dialed server (or the first one).
stopped() {
	local where=${me:-$(servers | head -n1)}
	c ls "$where/$name" 2>/dev/null | grep -qx "$where/$name/stop"
}

# bot_elements: the bot's nucleus and payload elements on every server.
bot_elements() {
	c ls -l /... 2>/dev/null | awk '$1 == "proc" { print $2 }' |
		grep -E "^/X[^/]+/$name/[0-9]+/(nucleus|payload)$"
}

# json STRING: STRING as a JSON string.
json() {
	local s=${1//\\/\\\\}
	printf '"%s"' "${s//\"/\\\"}"
}

# spawn_on ROLE EPOCH ARGS...: starts this script as ROLE of EPOCH (with
# ARGS) on a server not in the array `avoid`, if any other is left, trying
# the others in turn when one fails (a server that just died may still be
# listed). Prints the path; prints nothing when that element was started
# already; fails when no server took it.
spawn_on() {
	local role=$1 e=$2
	shift 2
	local all choice where url path err arg args more=()
	mapfile -t all < <(servers)
	mapfile -t choice < <(printf '%s\n' "${all[@]}" | grep -vxF -f <(printf '%s\n' "${avoid[@]}") | shuf)
	[ ${#choice[@]} -gt 0 ] || mapfile -t choice < <(printf '%s\n' "${all[@]}" | shuf)
	for where in "${choice[@]}"; do
		[ -n "$where" ] || continue
		path=$where/$name/$e/$role
		url=$(c peek "$where" 2>/dev/null | sed -n 's/^\t"URL" : "\(.*\)",$/\1/p')
		[ -n "$url" ] || continue
		args=$(json "$script")
		[ -z "$report" ] || more=(--report "$report")
		for arg in -d "$url" "$role" --name "$name" --epoch "$e" --seconds "$seconds" "$@" "${more[@]}"; do
			args+=",$(json "$arg")"
		done
		if err=$(printf '{"Path":%s,"Args":[%s],"Env":[%s,%s],"Scrub":true}' "$(json "$BASH")" \
			"$args" "$(json "PATH=$PATH")" "$(json "CIRCUIT_BIN=$circuit")" |
			c mkproc "$path" 2>&1 >/dev/null); then
			echo "$path"
			return 0
		fi
		case $err in *"already holds"*) return 0 ;; esac
	done
	return 1
}

# spawn_nucleus EPOCH AVOID...: starts the nucleus of EPOCH on a server not
# in AVOID and stays until it has started its payload: a successor whose
# server dies before that is started again elsewhere (a few times at most),
# so the bot does not end in the handover. Prints its path.
spawn_nucleus() {
	local e=$1
	shift
	local avoid=("$@") path elements
	for _ in 1 2 3 4 5 6; do
		stopped && return 0
		path=$(spawn_on nucleus "$e") || return 1
		[ -n "$path" ] || return 0 # someone else started this epoch
		for _ in $(seq 1 150); do  # 30 s at most
			elements=$(bot_elements)
			# Its payload, or a later epoch already: handed over.
			if grep -q "/$name/$e/payload$" <<<"$elements" ||
				awk -F/ -v e="$e" '$4 > e { found = 1 } END { exit !found }' <<<"$elements"; then
				echo "$path"
				return 0
			fi
			grep -qxF "$path" <<<"$elements" || break # gone before its payload: again, elsewhere
			sleep 0.2
		done
		avoid+=("$(server_of "$path")")
	done
	return 1
}

# scrub_before EPOCH: scrubs what is left of the bot's earlier epochs.
scrub_before() {
	local p
	for p in $(bot_elements); do
		[ "$(epoch_of "$p")" -ge "$1" ] || c scrub "$p" 2>/dev/null
	done
	return 0
}

# The nucleus: starts this epoch's payload on another server and waits for
# it; then hands over to the next epoch's nucleus elsewhere.
run_nucleus() {
	local mine=$me/$name/$epoch/nucleus payload status rc=0 outcome
	stopped && return 0
	local avoid=("$me")
	payload=$(spawn_on payload "$epoch" --nucleus "$mine") || return 1
	[ -n "$payload" ] || return 0
	scrub_before "$epoch"
	# Its end, its server's death or its scrub: hop all the same.
	status=$(c wait "$payload" 2>&1) || rc=$?
	case $rc in
	0 | 5) outcome="exited $(sed -n 's/^\t"ExitCode" : \(.*\),$/\1/p' <<<"$status")" ;;
	*) outcome="lost ($status)" ;;
	esac
	c scrub "$payload" 2>/dev/null
	# The report first: the bot goes on only once someone has taken it.
	[ -z "$report" ] || send_report "epoch $epoch: payload $payload $outcome"
	stopped || spawn_nucleus $((epoch + 1)) "$me" "$(server_of "$payload")" >/dev/null
}

# send_report TEXT: sends TEXT on the back channel, waiting until someone
# receives it (or the bot is stopped, or the channel is gone); a send that
# times out is withdrawn, and tried again.
send_report() {
	local rc
	while ! stopped; do
		rc=0
		printf '%s' "$1" | c -timeout 1s send "$report" 2>/dev/null || rc=$?
		[ "$rc" = 6 ] || return 0
	done
}

# The payload: runs the work (a child sleep) and watches the nucleus; if
# the nucleus goes first (its server died, or it failed: a nucleus ends its
# payload before it exits), it starts the next nucleus itself.
run_payload() {
	local child watcher ended
	sleep "$seconds" &
	child=$!
	c wait "$nucleus" >/dev/null 2>&1 &
	watcher=$!
	wait -n -p ended "$child" "$watcher"
	if [ "$ended" = "$child" ]; then
		local rc=0
		wait "$child" || rc=$?
		kill "$watcher" 2>/dev/null
		return $rc
	fi
	kill "$child" 2>/dev/null
	stopped || spawn_nucleus $((epoch + 1)) "$(server_of "$nucleus")" >/dev/null
	return 0
}

# stop: marks every server, ends the payloads, waits (60 s at most) until
# nothing of the bot is left, and removes the marks.
stop() {
	local s p left marks=()
	for s in $(servers); do
		c mkchan "$s/$name/stop" 0 2>/dev/null
		marks+=("$s/$name/stop")
	done
	for _ in $(seq 1 300); do
		left=$(bot_elements)
		[ -n "$left" ] || break
		for p in $left; do
			case $p in */payload) c scrub "$p" 2>/dev/null ;; esac
		done
		sleep 0.2
	done
	for s in "${marks[@]}"; do c scrub "$s" 2>/dev/null; done
	[ -z "$report" ] || c scrub "$report" 2>/dev/null
	if [ -n "$left" ]; then
		echo "still running: $(tr '\n' ' ' <<<"$left")" >&2
		return 1
	fi
}

case $cmd in
start)
	if [ -n "$report" ] && ! err=$(c mkchan "$report" 0 2>&1); then
		case $err in *"already holds"*) ;; *) echo "$err" >&2; exit 1 ;; esac
	fi
	path=$(spawn_nucleus "$epoch") || { echo "watchbot.sh: no server took the nucleus" >&2; exit 1; }
	echo "${path:-started already}"
	;;
stop) stop ;;
nucleus) run_nucleus ;;
payload) run_payload ;;
*) usage ;;
esac
