# SPDX-License-Identifier: Apache-2.0
# tests/bench/bench_lib.sh - the preamble of the benchmarks that run real
# servers: source it first (`source "$(dirname "$0")/bench_lib.sh"`). Finds
# the binaries from CIRCUIT_BUILD_DIR (ctest sets all of it), sources
# tests/integration/lib.sh (servers by PID, stopped on exit) and sets $here
# (the benchmark's folder) and $build_type (recorded with the figures).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${CIRCUIT_BUILD_DIR:?set CIRCUIT_BUILD_DIR to the build tree}"
export CIRCUIT_SOURCE_DIR=${CIRCUIT_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export CIRCUIT_BIN=${CIRCUIT_BIN:-$CIRCUIT_BUILD_DIR/bin/circuit}
export CIRCUITD_BIN=${CIRCUITD_BIN:-$CIRCUIT_BUILD_DIR/bin/circuitd}
source "$CIRCUIT_SOURCE_DIR/tests/integration/lib.sh"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$CIRCUIT_BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)

# bench_sample CMD...: the wall time of CMD piped to /dev/null, in ms.
bench_sample() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" | cat >/dev/null
	t1=$(date +%s%N)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }'
}
# bench_stats FILE: "median min max" of the numbers in FILE (one a line).
bench_stats() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}
# bench_ratio A B: A / B with two decimals.
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
