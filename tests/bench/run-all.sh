#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-all.sh [idle|spawn|stream|cli|cluster-scale|cluster-idle ...]: runs the
# foundation benchmarks (default: all four, or those named in
# $CIRCUIT_BENCH_ONLY; the cluster benchmarks, 200 daemons each, only when
# named), each of which
# records its figures in docs/BENCHMARKS.md with record.sh. One benchmark
# failing does not stop the others; the exit status says whether any failed.
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/run-all.sh
# The spawn benchmark is the C program spawn_bench; this script drives it
# (`run-all.sh spawn`) against a circuitd started through lib.sh.
# Knobs: CIRCUIT_BENCH_IDLE_SECONDS, CIRCUIT_BENCH_SPAWN_COUNT (500),
# CIRCUIT_BENCH_STREAM_MIB, CIRCUIT_BENCH_STREAM_RUNS, CIRCUIT_BENCH_CLI_RUNS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = --spawn-driver ]; then
	: "${CIRCUIT_BUILD_DIR:?set CIRCUIT_BUILD_DIR to the build tree}"
	export CIRCUIT_SOURCE_DIR=${CIRCUIT_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
	export CIRCUIT_BIN=${CIRCUIT_BIN:-$CIRCUIT_BUILD_DIR/bin/circuit}
	export CIRCUITD_BIN=${CIRCUITD_BIN:-$CIRCUIT_BUILD_DIR/bin/circuitd}
	source "$CIRCUIT_SOURCE_DIR/tests/integration/lib.sh"
	bench=$CIRCUIT_BUILD_DIR/tests/bench/spawn_bench
	[ -x "$bench" ] || fail "$bench is not built"
	count=${CIRCUIT_BENCH_SPAWN_COUNT:-500}
	[[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -ge 1 ] && [ "$count" -le 100000 ] ||
		fail "CIRCUIT_BENCH_SPAWN_COUNT must be 1..100000"
	load_start=$(cut -d' ' -f1-3 /proc/loadavg)
	start_server
	timeout 600 "$bench" "$CIRCUIT_TEST_URL" "$T_TMP/spawn.md" "$count" 300
	load_end=$(cut -d' ' -f1-3 /proc/loadavg)
	{
		echo
		echo "circuitd and libcircuit: $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' \
			"$CIRCUIT_BUILD_DIR/CMakeCache.txt" 2>/dev/null || true) build." \
			"Load average (1/5/15 min) at start: $load_start; at end: $load_end."
		if awk -v a="$load_start" -v b="$load_end" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] > 1 || y[1] > 1) }'; then
			echo "The machine was shared with other builds and tests (load average above 1)."
		fi
	} >>"$T_TMP/spawn.md"
	if [ "$count" -lt 500 ] && [ -z "${CIRCUIT_BENCH_RECORD_SHORT:-}" ]; then
		echo "spawn: a $count-iteration run is not recorded (record 500)"
	else
		bash "$here/record.sh" spawn "$T_TMP/spawn.md"
	fi
	exit 0
fi

: "${CIRCUIT_BUILD_DIR:?set CIRCUIT_BUILD_DIR to the build tree}"
if [ $# -eq 0 ]; then
	read -r -a names <<<"${CIRCUIT_BENCH_ONLY:-idle spawn stream cli}"
else
	names=("$@")
fi
failed=()
for name in "${names[@]}"; do
	echo "=== bench $name ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
	case "$name" in
	idle | stream | cli) script=("$here/$name.sh") ;;
	cluster-scale | cluster-idle) script=("$here/${name//-/_}.sh") ;;
	spawn) script=("$here/run-all.sh" --spawn-driver) ;;
	*)
		echo "run-all.sh: unknown benchmark '$name' (idle, spawn, stream, cli, cluster-scale, cluster-idle)" >&2
		exit 2
		;;
	esac
	bash "${script[@]}" || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "run-all.sh: failed: ${failed[*]}" >&2
	exit 1
fi
echo "run-all.sh: done: ${names[*]}"
