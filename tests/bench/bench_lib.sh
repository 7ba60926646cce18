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
