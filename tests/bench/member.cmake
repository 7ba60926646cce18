# SPDX-License-Identifier: Apache-2.0
# member-sim: lib/member in the simulator at N = 100, 1,000, 2,000 (rounds to
# convergence and to failure detection). Always built; a ctest test (label
# bench) only with CIRCUIT_BENCH=ON, which records into docs/BENCHMARKS.md.
add_executable(member_sim_bench ${CMAKE_CURRENT_LIST_DIR}/member_sim_bench.c)
target_link_libraries(member_sim_bench PRIVATE circuit_sim m)
if(CIRCUIT_BENCH)
  add_test(NAME bench_member_sim
    COMMAND bash -c "$<TARGET_FILE:member_sim_bench> ${CMAKE_BINARY_DIR}/member-sim.md && ${CMAKE_CURRENT_LIST_DIR}/record.sh member-sim ${CMAKE_BINARY_DIR}/member-sim.md")
  set_tests_properties(bench_member_sim PROPERTIES LABELS bench TIMEOUT 3600
    ENVIRONMENT "CIRCUIT_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endif()
