#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ls.sh (issue 23, target 5): wall time of `circuit ls /X.../PREFIX/...`
# listing 100,000 anchors on one server against `find` over a directory
# tree of 100,000 empty directories with the same names, in the same run,
# in two shapes: flat (100,000 children of one anchor or directory) and a
# tree (100 parents of 1,000 each). Both print one path a line into a pipe
# to /dev/null. RUNS interleaved runs each (after one warm-up), median and
# spread; records the "ls" section of docs/BENCHMARKS.md; never asserts
# timings. Run through ctest (CIRCUIT_BENCH=ON) or by hand:
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/ls.sh
# CIRCUIT_BENCH_LS_COUNT (default 100000), CIRCUIT_BENCH_LS_RUNS (default 9).
source "$(dirname "$0")/bench_lib.sh"
build_type=${build_type:-RelWithDebInfo (the default)}

count=${CIRCUIT_BENCH_LS_COUNT:-100000}
runs=${CIRCUIT_BENCH_LS_RUNS:-9}
[[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -ge 1000 ] && [ "$count" -le 900000 ] ||
	fail "CIRCUIT_BENCH_LS_COUNT must be 1000..900000"
[[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 3 ] && [ "$runs" -le 100 ] ||
	fail "CIRCUIT_BENCH_LS_RUNS must be 3..100"
width=14 # + 6 digits: names of 20 bytes
groups=100
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
start_server -a "127.0.0.1:$port" --plugins=chan
X=$SERVER_ID
python3 "$here/ls.py" "$port" "$X" "$count" "$width" flat/
python3 "$here/ls.py" "$port" "$X" "$count" "$width" tree/ "$groups"

# The same names as directories, on the file system of the test's temp dir.
fs="$T_TMP/fs"
python3 - "$fs" "$count" "$width" "$groups" <<'PY'
import os, sys
root, count, width, groups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pad = "a" * width
per = -(-count // groups)
os.makedirs(os.path.join(root, "flat"))
for i in range(count):
    os.mkdir(os.path.join(root, "flat", "%s%06d" % (pad, i)))
for g in range(groups):
    os.makedirs(os.path.join(root, "tree", "g%03d" % g))
for i in range(count):
    os.mkdir(os.path.join(root, "tree", "g%03d" % (i // per), "%s%06d" % (pad, i)))
PY
fs_type=$(stat -f -c %T "$fs")

# Both list the same number of entries (find also prints its start).
for shape in flat tree; do
	n_ls=$("$CIRCUIT_BIN" -d "$SERVER_URL" ls "/$X/$shape/..." | wc -l)
	n_find=$(find "$fs/$shape" -mindepth 1 | wc -l)
	[ "$n_ls" = "$n_find" ] || fail "$shape: ls lists $n_ls, find $n_find"
done

for shape in flat tree; do
	: >"$T_TMP/$shape.ls"
	: >"$T_TMP/$shape.find"
	for i in $(seq 0 "$runs"); do
		a=$(bench_sample "$CIRCUIT_BIN" -d "$SERVER_URL" ls "/$X/$shape/...")
		b=$(bench_sample find "$fs/$shape")
		if [ "$i" -gt 0 ]; then # run 0 warms both up
			echo "$a" >>"$T_TMP/$shape.ls"
			echo "$b" >>"$T_TMP/$shape.find"
		fi
	done
done
rss_kib=$(awk '/VmRSS/{print $2}' "/proc/$SERVER_PID/status")
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
server_alive


out="$T_TMP/ls.md"
{
	echo "Wall time of listing $count anchors on one server, \`circuit -d URL ls /X.../SHAPE/...\`"
	echo "(the CLI dialed into the server; the listing streams as JSON lines, docs/protocol.md),"
	echo "against \`find DIR\` over a tree of $count empty directories with the same names"
	echo "($fs_type, the test's temp dir; warm cache), both into a pipe to /dev/null. Names of"
	echo "20 bytes; flat: $count children of one anchor (directory); tree: $groups parents of"
	echo "$((count / groups)) each. $runs interleaved runs each after one warm-up; median (min-max), ms."
	echo "circuit: ${build_type:-unknown} build; circuitd RSS after the runs: $rss_kib KiB."
	echo "Load average (1/5/15 min) at start: $load_start; at end: $load_end."
	echo
	echo "| shape | circuit ls | find (baseline) | ratio ls / find (bar: at most 2) |"
	echo "|---|---:|---:|---:|"
	for shape in flat tree; do
		read -r lm ln lx < <(bench_stats "$T_TMP/$shape.ls")
		read -r fm fn fx < <(bench_stats "$T_TMP/$shape.find")
		echo "| $shape | $lm ($ln-$lx) | $fm ($fn-$fx) | **$(bench_ratio "$lm" "$fm")** |"
		echo "figure: ls $shape median ${lm} ms find ${fm} ms ratio $(bench_ratio "$lm" "$fm")" >&2
	done
	if awk -v a="$load_start" -v b="$load_end" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] > 1 || y[1] > 1) }'; then
		echo
		echo "The machine was shared with other builds and tests (load average above 1)."
	fi
} >"$out"
cat "$out"
if [ "$count" -lt 100000 ] && [ -z "${CIRCUIT_BENCH_RECORD_SHORT:-}" ]; then
	echo "ls: a listing of $count anchors is not recorded (record 100,000 or more)"
else
	bash "$here/record.sh" ls "$out"
fi
