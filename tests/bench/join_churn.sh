#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# join_churn.sh: how long a new server stays unknown right after others
# left (issue 15, finding 8), median and worst, loopback and simulator.
# Loopback: tests/integration/join_churn.sh with more rounds (each round a
# new server R joins A of a 3-server cluster and is SIGTERMed; every other
# round measures R started -> listed by B and C). Simulator: /sim/join/
# rolling-restarts of tests/sim/test_sim (clusters of 5 and 10, 20% of
# the servers restarted per wave, 2 s apart, half graceful, half crashed).
# Records the "join-churn" section of docs/BENCHMARKS.md. Never asserts a
# time (the tests it runs have hang guards only).
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/join_churn.sh
# Knob: CIRCUIT_BENCH_JOIN_ROUNDS (30, half of them measured).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${CIRCUIT_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
build=${CIRCUIT_BUILD_DIR:?set CIRCUIT_BUILD_DIR}
export CIRCUIT_SOURCE_DIR=$src
export CIRCUIT_BIN=${CIRCUIT_BIN:-$build/bin/circuit}
export CIRCUITD_BIN=${CIRCUITD_BIN:-$build/bin/circuitd}
export CIRCUIT_TESTLIB=${CIRCUIT_TESTLIB:-$src/tests/integration/lib.sh}
rounds=${CIRCUIT_BENCH_JOIN_ROUNDS:-30}
[[ "$rounds" =~ ^[0-9]+$ ]] && [ "$rounds" -ge 2 ] && [ "$rounds" -le 200 ] ||
	{ echo "CIRCUIT_BENCH_JOIN_ROUNDS must be 2..200" >&2; exit 1; }
out=$(mktemp -d /tmp/circuit-bench-join.XXXXXX)
trap 'rm -rf "$out"' EXIT

JOIN_CHURN_ROUNDS=$rounds bash "$src/tests/integration/join_churn.sh" >"$out/loop.txt" 2>&1 ||
	{ tail -n 40 "$out/loop.txt" >&2; echo "join_churn.sh failed" >&2; exit 1; }
loop=$(grep '^figure: loopback join-churn' "$out/loop.txt")
echo "$loop"
"$build/bin/test_sim" -p /sim/join/rolling-restarts --verbose >"$out/sim.txt" 2>&1 ||
	{ cat "$out/sim.txt" >&2; echo "test_sim failed" >&2; exit 1; }
grep 'figure: sim join-churn' "$out/sim.txt"

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
{
	echo "Time from a new server's start until every other live server lists it, with"
	echo "departed members in every view. Loopback: \`tests/integration/join_churn.sh\`,"
	echo "3 servers on 127.0.0.1, each round a new server R joins A, then SIGTERM"
	echo "(default timers; R started -> listed by \`ls /\` on B and C, polled every"
	echo "50 ms, so the CLI's own start-up is included). Simulator: \`/sim/join/rolling-restarts\`,"
	echo "virtual time, 20% of the cluster restarted per wave, 15 waves 2 s apart,"
	echo "half leaving gracefully, half crashing with refusals; gossip period 200 ms."
	echo
	echo "| run | joins | median | worst | bound |"
	echo "|---|---|---|---|---|"
	echo "| loopback, $rounds rounds | $(field rounds "$loop") measured, $((rounds - $(field rounds "$loop"))) quick leavers | $(field median_ms "$loop") ms | $(field worst_ms "$loop") ms | (hang guard only) |"
	while read -r l; do
		echo "| sim n=$(field n "$l") seed=$(field seed "$l") | $(field joins "$l") | $(field median_ms "$l") ms ($(field median_periods "$l") periods) | $(field worst_ms "$l") ms ($(field worst_periods "$l") periods) | $(field bound_periods "$l") periods |"
	done < <(grep 'figure: sim join-churn' "$out/sim.txt")
	echo
	echo "Before (ceea531, same scenarios): loopback, 7 measured rounds: median 76 ms, worst"
	echo "48,354 ms, and 6 of 7 quick leavers never reported by @join or @leave on B; sim n=5:"
	echo "median 390 / 210 / 320 ms, worst 33,060 / 4,010 (2 never known before their next"
	echo "restart) / 28,750 ms for seeds 15 / 16 / 17 (a push-pull period); n=10: worst 480 ms."
	echo "The fix: gossip's counted transmissions go to live members only (one uncounted"
	echo "datagram per round to a recently dead one), and a join is pushed at once, by the"
	echo "seed and by the joiner, to gossip_nodes live members (docs/membership.md)."
} >"$out/section.md"
"$here/record.sh" join-churn "$out/section.md"
