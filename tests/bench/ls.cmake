# SPDX-License-Identifier: Apache-2.0
# Listings that scale (issue 23, target 5): `circuit ls` of 100,000 anchors
# against `find` over 100,000 empty directories, in the same run. The ctest
# test "bench/ls" exists only with CIRCUIT_BENCH=ON.
if(TARGET circuit_client AND CIRCUIT_BENCH)
  circuit_add_shell_test(bench/ls ${CMAKE_CURRENT_LIST_DIR}/ls.sh LABELS bench TIMEOUT 600)
endif()
# `ls /...` over a cluster of 20 servers of 5,000 anchors each against each
# server alone and one server holding all 100,000 (tests/bench/ls_cluster.sh).
if(TARGET circuit_client AND CIRCUIT_BENCH)
  circuit_add_shell_test(bench/ls-cluster ${CMAKE_CURRENT_LIST_DIR}/ls_cluster.sh LABELS bench TIMEOUT 900)
endif()
