# SPDX-License-Identifier: Apache-2.0
# cluster-scale and cluster-idle: real circuitd clusters on 127.0.0.1 (200
# processes; 20 and 200), against the same engine in the simulator
# (cluster_sim_baseline, always built). ctest tests (label bench) only with
# CIRCUIT_BENCH=ON; each records its section of docs/BENCHMARKS.md.
add_executable(cluster_sim_baseline ${CMAKE_CURRENT_LIST_DIR}/cluster_sim_baseline.c)
target_link_libraries(cluster_sim_baseline PRIVATE circuit_sim m)
set_target_properties(cluster_sim_baseline PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
if(CIRCUIT_BENCH)
  circuit_add_shell_test(bench/cluster-scale ${CMAKE_CURRENT_LIST_DIR}/cluster_scale.sh
                         LABELS bench TIMEOUT 900)
  circuit_add_shell_test(bench/cluster-idle ${CMAKE_CURRENT_LIST_DIR}/cluster_idle.sh
                         LABELS bench TIMEOUT 900)
endif()
