#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# failures.sh (issue 15): the figures of the failure tests, recorded in one
# place. Runs netns/liveness (needs root: a vanished receiver's host and a
# black-holed relay-owner link, in a namespace of its own),
# integration/relay_cancel (memory of the owner after abandoned relayed
# sends), integration/relay_loss (stream hand-over after a relay died),
# integration/owner_unavailable (what calls say while an owner is paused) and
# the full load test (LOAD_CLIENTS=200, 60 s, the owner stopped for 12 s, a
# relay killed), and records their "figure:" lines as the "failures"
# section of docs/BENCHMARKS.md. Never asserts beyond what the tests do.
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/failures.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${CIRCUIT_BUILD_DIR:?set CIRCUIT_BUILD_DIR to the build tree}"
export CIRCUIT_SOURCE_DIR=${CIRCUIT_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export CIRCUIT_BIN=${CIRCUIT_BIN:-$CIRCUIT_BUILD_DIR/bin/circuit}
export CIRCUITD_BIN=${CIRCUITD_BIN:-$CIRCUIT_BUILD_DIR/bin/circuitd}
export CIRCUIT_TESTLIB=$CIRCUIT_SOURCE_DIR/tests/integration/lib.sh
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() { # NAME SCRIPT [ENV...]
	local name=$1 script=$2
	shift 2
	if env "$@" bash "$script" >"$out/$name.log" 2>&1; then
		sed -n 's/^figure: //p' "$out/$name.log" | sed "s/^/- $name: /" >>"$out/figures"
	else
		echo "- $name: **failed** ($(grep -m1 FAIL "$out/$name.log" || tail -n1 "$out/$name.log"))" >>"$out/figures"
	fi
}
run liveness "$CIRCUIT_SOURCE_DIR/tests/netns/liveness.sh"
run relay_cancel "$CIRCUIT_SOURCE_DIR/tests/integration/relay_cancel.sh"
run relay_loss "$CIRCUIT_SOURCE_DIR/tests/integration/relay_loss.sh"
run owner_unavailable "$CIRCUIT_SOURCE_DIR/tests/integration/owner_unavailable.sh"
run load "$CIRCUIT_SOURCE_DIR/tests/integration/load_chaos.sh" LOAD_CLIENTS=200 LOAD_SECONDS=60 LOAD_STOP=12
cat "$out/figures"
{
	echo "Failure figures of issue 15, each from the test that checks the behaviour"
	echo "(\`--liveness\` 10 s, the default). Load average when the benchmark started: $load_start."
	echo "In the load test, errors are calls that failed, not messages lost: while the owner"
	echo "is paused, calls on it fail at once (unavailable while it is suspected, no such"
	echo "server once it is declared dead, until it refutes) and the clients retry at once."
	echo
	cat "$out/figures"
} >"$out/md"
bash "$here/record.sh" failures "$out/md"
