#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cluster_common.sh - sourced by cluster_scale.sh and cluster_idle.sh: starts
# real circuitd clusters on 127.0.0.1 (one seed, everyone joining it with
# -j 127.0.0.1:SEEDPORT, all started at once) and stops every process it
# started, by PID, on exit (even on failure).
set -euo pipefail
: "${CIRCUIT_BUILD_DIR:?set CIRCUIT_BUILD_DIR to the build tree}"
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CIRCUIT_SOURCE_DIR=${CIRCUIT_SOURCE_DIR:-$(cd "$bench_dir/../.." && pwd)}
export CIRCUIT_BIN=${CIRCUIT_BIN:-$CIRCUIT_BUILD_DIR/bin/circuit}
export CIRCUITD_BIN=${CIRCUITD_BIN:-$CIRCUIT_BUILD_DIR/bin/circuitd}
SIM_BASELINE=${CIRCUIT_SIM_BASELINE:-$CIRCUIT_BUILD_DIR/tests/bench/cluster_sim_baseline}
PYLIB="$bench_dir/cluster_lib.py"
PY=$(python3 -c 'import sys; print(sys.executable)') || { echo "FAIL: no python3" >&2; exit 1; }
[ -x "$CIRCUITD_BIN" ] && [ -x "$CIRCUIT_BIN" ] || { echo "FAIL: no circuitd/circuit in $CIRCUIT_BUILD_DIR/bin" >&2; exit 1; }
[ -x "$SIM_BASELINE" ] || { echo "FAIL: $SIM_BASELINE is not built" >&2; exit 1; }

C_TMP=$(mktemp -d /tmp/circuit-cluster-bench.XXXXXX)
export HOME="$C_TMP/home" # the CLI must not find a user's ~/.circuit
mkdir -p "$HOME"
unset CIRCUIT CIRCUIT_DISCOVER CIRCUIT_HMAC
C_PIDS=()   # every circuitd started (killed on exit)
C_GUARDS=() # their circuit-guard helpers (exit with circuitd; killed anyway)
C_HELPERS=() # background python3 helpers
C_NAME=$(basename "$0" .sh)

c_stop_all() {
	local pid
	local kids=() more=()
	for pid in "${C_HELPERS[@]}"; do
		# their children (CLI calls) too, by PID
		more=()
		read -r -a more < <(cat /proc/"$pid"/task/*/children 2>/dev/null) || true
		kids+=("${more[@]}")
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "${kids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	{
		for pid in "${C_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
		for pid in "${C_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	} 2>/dev/null
	for pid in "${C_GUARDS[@]}"; do
		for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	C_PIDS=()
	C_GUARDS=()
	C_HELPERS=()
}

c_cleanup() {
	local rc=$?
	set +e
	c_stop_all
	if [ $rc -ne 0 ]; then
		echo "--- $C_NAME failed (rc=$rc); last lines of the seed's and three other logs:"
		for f in $(ls "$C_TMP"/run*/server*.log 2>/dev/null | head -n 4); do
			echo "== $f"
			tail -n 30 "$f"
		done
	fi
	[ -n "${CIRCUIT_TEST_KEEP:-}" ] && echo "kept $C_TMP" || rm -rf "$C_TMP"
	exit $rc
}
trap c_cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }

# run_bg CMD...: runs CMD in the background and waits for it, so that a
# signal to this script runs the trap at once (bash runs a trap only after
# the foreground command ends); returns CMD's status.
run_bg() {
	"$@" &
	local p=$!
	C_HELPERS+=("$p")
	wait "$p"
}

# 200 daemons, their helpers and the CLI polling them: plenty of descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# prepare_cluster N DIR: picks N ports of 127.0.0.1 free for TCP and UDP
# (server 0 is the seed) and lists the servers' logs in DIR/servers.logs.
prepare_cluster() {
	local n=$1 dir=$2 i
	mkdir -p "$dir"
	mapfile -t C_PORTS < <("$PY" "$PYLIB" ports "$n")
	[ "${#C_PORTS[@]}" -eq "$n" ] || fail "could not find $n free ports"
	for i in $(seq 0 $((n - 1))); do echo "$dir/server$i.log"; done >"$dir/servers.logs"
}

# launch_cluster N DIR: starts N circuitd (-v, --plugins=proc) on the ports
# of prepare_cluster, every one but the seed joining it, all launched back
# to back; waits (bounded) for each to print its URL and writes DIR/servers
# (lines "pid url log", in one rename). Sets T_LAUNCHED_NS.
launch_cluster() {
	local n=$1 dir=$2 i
	local seed=${C_PORTS[0]}
	local pids=()
	local t
	t=$(date +%s%N)
	for i in $(seq 0 $((n - 1))); do
		local join=()
		[ "$i" -gt 0 ] && join=(-j "127.0.0.1:$seed")
		"$CIRCUITD_BIN" -a "127.0.0.1:${C_PORTS[$i]}" --plugins=proc -v "${join[@]}" \
			>"$dir/server$i.url" 2>"$dir/server$i.log" </dev/null &
		pids+=($!)
		C_PIDS+=($!)
	done
	T_LAUNCHED_NS=$(date +%s%N)
	: >"$dir/servers.tmp"
	for i in $(seq 0 $((n - 1))); do
		local url=
		for _ in $(seq 1 600); do
			url=
			[ -s "$dir/server$i.url" ] && read -r url <"$dir/server$i.url" || true
			[[ "$url" == circuit://* ]] && break
			kill -0 "${pids[$i]}" 2>/dev/null || { tail -n 20 "$dir/server$i.log" >&2; fail "circuitd on port ${C_PORTS[$i]} exited at start"; }
			sleep 0.05
		done
		[[ "$url" == circuit://* ]] || fail "circuitd on port ${C_PORTS[$i]} printed no URL in 30 s"
		echo "${pids[$i]} $url $dir/server$i.log" >>"$dir/servers.tmp"
	done
	mv "$dir/servers.tmp" "$dir/servers"
	T_URLS_NS=$(date +%s%N)
	for i in $(seq 0 $((n - 1))); do
		local g
		for g in $(cat "/proc/${pids[$i]}/task/${pids[$i]}/children" 2>/dev/null); do C_GUARDS+=("$g"); done
	done
	echo "$C_NAME: $n servers launched in $(((T_LAUNCHED_NS - t) / 1000000)) ms," \
		"all printed their URL after $(((T_URLS_NS - t) / 1000000)) ms (seed 127.0.0.1:$seed)"
}

# converge_bg DIR N T0_NS LIMIT OUT: the cold-start watcher (cluster_lib.py
# converge), started in the background before launch_cluster; sets CONV_PID.
converge_bg() {
	"$PY" "$PYLIB" converge "$CIRCUIT_BIN" "$1/servers" "$2" "$3" "$4" "$5" &
	CONV_PID=$!
	C_HELPERS+=("$CONV_PID")
}

# kill_some DIR N KILL LIMIT OUT: kills -9 KILL servers spread over the
# cluster (never the seed) and waits until the survivors agree (through
# cluster_lib.py converge --kill, which kills them itself, timing from the
# first kill). Writes DIR/survivors(.logs). Returns its status.
kill_some() {
	local dir=$1 n=$2 k=$3 limit=$4 out=$5 i rc=0
	local lines victims=() pid
	mapfile -t lines <"$dir/servers"
	declare -A victim=()
	for i in $(seq 0 $((k - 1))); do victim[$((1 + i * (n - 1) / k))]=1; done
	: >"$dir/survivors.tmp"
	: >"$dir/survivors.logs"
	for i in "${!lines[@]}"; do
		read -r pid _ <<<"${lines[$i]}"
		if [ -n "${victim[$i]:-}" ]; then
			victims+=("$pid")
		else
			echo "${lines[$i]}" >>"$dir/survivors.tmp"
			echo "${lines[$i]##* }" >>"$dir/survivors.logs"
		fi
	done
	mv "$dir/survivors.tmp" "$dir/survivors"
	echo "${victims[*]}" >"$dir/victims"
	# (stderr of this shell off meanwhile: no "Killed" notice per victim)
	{
		run_bg "$PY" "$PYLIB" converge "$CIRCUIT_BIN" "$dir/survivors" "$((n - k))" "$(date +%s%N)" \
			"$limit" "$out" --kill "$dir/victims" 2>&3 || rc=$?
		for pid in "${victims[@]}"; do
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		done
	} 3>&2 2>/dev/null
	# Reaped: their PIDs may be reused, so the trap must not kill them.
	local keep=() p
	for p in "${C_PIDS[@]}"; do [[ " ${victims[*]} " == *" $p "* ]] || keep+=("$p"); done
	C_PIDS=("${keep[@]}")
	return $rc
}

# load_json FILE: reads FILE's figures once (in this shell); json FILE KEY
# [SUBKEY] then prints one ("-" if absent). Not in a subshell: $(json ...)
# only reads what load_json stored.
declare -A C_JSON=()
load_json() {
	local k v
	while IFS=$'\t' read -r k v; do C_JSON["$1:$k"]=$v; done < <("$PY" "$PYLIB" flat "$1")
}
json() {
	local f=$1 k
	shift
	k=$(IFS=.; echo "$*")
	echo "${C_JSON["$f:$k"]:--}"
}

# kv FILE KEY: a value of the key=value output of cluster_sim_baseline.
kv() { sed -n "s/^$2=//p" "$1"; }

load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
build_type() {
	local t
	t=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$CIRCUIT_BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
	echo "${t:-RelWithDebInfo (the project default)}"
}
