#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ls_cluster.sh (issue 23, target 5, second half): wall time of
# `circuit ls /...` over a cluster of SERVERS servers holding COUNT anchors
# each, dialed into the first, against each server listed alone
# (`circuit -d URL ls /X.../...`, dialed into that server), in the same run:
# the ratio to the slowest single server (the issue's bar: at most 1.5) and
# to the sum of the single listings (what asking the servers one after the
# other would cost). Every listing goes into a pipe to /dev/null; RUNS
# interleaved runs after one warm-up; median and spread. Records the
# "ls-cluster" section of docs/BENCHMARKS.md; never asserts a time.
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/ls_cluster.sh
# CIRCUIT_BENCH_LSC_SERVERS (default 20), CIRCUIT_BENCH_LSC_COUNT (default
# 5000 per server), CIRCUIT_BENCH_LSC_RUNS (default 7).
source "$(dirname "$0")/bench_lib.sh"

servers=${CIRCUIT_BENCH_LSC_SERVERS:-20}
count=${CIRCUIT_BENCH_LSC_COUNT:-5000}
runs=${CIRCUIT_BENCH_LSC_RUNS:-7}
[[ "$servers" =~ ^[0-9]+$ ]] && [ "$servers" -ge 2 ] && [ "$servers" -le 50 ] ||
	fail "CIRCUIT_BENCH_LSC_SERVERS must be 2..50"
[[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -ge 100 ] && [ "$count" -le 100000 ] ||
	fail "CIRCUIT_BENCH_LSC_COUNT must be 100..100000"
[[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 3 ] && [ "$runs" -le 50 ] ||
	fail "CIRCUIT_BENCH_LSC_RUNS must be 3..50"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

declare -a URL ID PORT
for i in $(seq 1 "$servers"); do
	PORT[$i]=$(free_port)
	if [ "$i" = 1 ]; then
		start_server -a "127.0.0.1:${PORT[$i]}" --plugins=chan
	else
		start_server -a "127.0.0.1:${PORT[$i]}" --plugins=chan -j "${URL[1]}"
	fi
	URL[$i]=$SERVER_URL ID[$i]=$SERVER_ID
	python3 "$here/ls.py" "${PORT[$i]}" "${ID[$i]}" "$count" 14 d/ >/dev/null
done
# A server of its own (no cluster) holding as many anchors as the whole
# cluster: the same lines from one server, the cost of the bytes alone.
LPORT=$(free_port)
start_server -a "127.0.0.1:$LPORT" --plugins=chan
LURL=$SERVER_URL LID=$SERVER_ID
python3 "$here/ls.py" "$LPORT" "$LID" $((servers * count)) 14 d/ >/dev/null
# Every server sees every other before anything is timed (bounded).
for i in $(seq 1 "$servers"); do
	wait_until 60 members_are "${URL[$i]}" "$servers"
done

# The cluster's listing holds every server's line and every anchor.
want=$((servers * (count + 1)))
got=$("$CIRCUIT_BIN" -d "${URL[1]}" ls /... | wc -l)
[ "$got" -ge "$want" ] || fail "ls /... listed $got lines, wanted at least $want"
one=$("$CIRCUIT_BIN" -d "${URL[2]}" ls "/${ID[2]}/..." | wc -l)

: >"$T_TMP/all"
: >"$T_TMP/slowest"
: >"$T_TMP/sum"
: >"$T_TMP/lone"
for r in $(seq 0 "$runs"); do
	a=$(bench_sample "$CIRCUIT_BIN" -d "${URL[1]}" ls /...)
	l=$(bench_sample "$CIRCUIT_BIN" -d "$LURL" ls "/$LID/...")
	slowest=0 sum=0
	for i in $(seq 1 "$servers"); do
		t=$(bench_sample "$CIRCUIT_BIN" -d "${URL[$i]}" ls "/${ID[$i]}/...")
		slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
		sum=$(awk -v a="$sum" -v b="$t" 'BEGIN { print a + b }')
	done
	if [ "$r" -gt 0 ]; then # run 0 warms everything up
		echo "$a" >>"$T_TMP/all"
		echo "$slowest" >>"$T_TMP/slowest"
		echo "$sum" >>"$T_TMP/sum"
		echo "$l" >>"$T_TMP/lone"
	fi
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
server_alive

read -r am an ax < <(bench_stats "$T_TMP/all")
read -r sm sn sx < <(bench_stats "$T_TMP/slowest")
read -r um un ux < <(bench_stats "$T_TMP/sum")
read -r lm ln lx < <(bench_stats "$T_TMP/lone")
lone_lines=$("$CIRCUIT_BIN" -d "$LURL" ls "/$LID/..." | wc -l)

out="$T_TMP/ls-cluster.md"
{
	echo "Wall time of \`circuit -d URL1 ls /...\` over a cluster of $servers servers on this"
	echo "machine, each holding $count anchors (names of 22 bytes), against each server's own"
	echo "\`circuit -d URLi ls /Xi/...\` in the same run: the slowest of them (the bar: at most"
	echo "1.5x) and their sum (asking the servers one after the other), and a server outside"
	echo "the cluster holding $((servers * count)) anchors itself (the same lines from one server)."
	echo "$runs interleaved runs"
	echo "after one warm-up; median (min-max), ms; into a pipe to /dev/null. ${build_type:-unknown} build."
	echo "Load average (1/5/15 min) at start: $load_start; at end: $load_end."
	echo
	echo "| listing | lines | ms | ratio to the slowest single | ratio to the sum | ratio to one server, same lines |"
	echo "|---|---:|---:|---:|---:|---:|"
	echo "| ls /... ($servers servers) | $got | $am ($an-$ax) | **$(bench_ratio "$am" "$sm")** | **$(bench_ratio "$am" "$um")** | **$(bench_ratio "$am" "$lm")** |"
	echo "| slowest single server | $one | $sm ($sn-$sx) | 1.00 | - | - |"
	echo "| sum of the $servers single listings | $((servers * one)) | $um ($un-$ux) | - | 1.00 | - |"
	echo "| one server, $((servers * count)) anchors | $lone_lines | $lm ($ln-$lx) | - | - | 1.00 |"
	echo
	echo "The other servers' parts are asked in parallel (core/router/router.c) and the"
	echo "cluster's listing carries $servers times the lines of one server's, read and printed by"
	echo "one CLI on $(nproc) cores shared with the $servers servers: the last column is what"
	echo "spreading the anchors over servers costs beyond the lines themselves."
	if awk -v a="$load_start" -v b="$load_end" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] > 1 || y[1] > 1) }'; then
		echo
		echo "The machine was shared with other builds and tests (load average above 1)."
	fi
} >"$out"
cat "$out"
echo "figure: ls-cluster servers $servers count $count all_ms $am slowest_ms $sm sum_ms $um" >&2
if [ "$servers" -lt 20 ] || [ "$count" -lt 5000 ]; then
	echo "ls-cluster: a run smaller than 20 servers of 5,000 anchors is not recorded"
else
	bash "$here/record.sh" ls-cluster "$out"
fi
