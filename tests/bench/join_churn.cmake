# SPDX-License-Identifier: Apache-2.0
# join-churn: how long a new server stays unknown right after others left
# (issue 15, finding 8), loopback (tests/integration/join_churn.sh) and in the
# simulator (/sim/join/rolling-restarts). A ctest test (label bench) only with
# CIRCUIT_BENCH=ON, which records into docs/BENCHMARKS.md.
if(CIRCUIT_BENCH)
  circuit_add_shell_test(bench/join-churn ${CMAKE_CURRENT_LIST_DIR}/join_churn.sh
                         LABELS bench TIMEOUT 1200)
endif()
