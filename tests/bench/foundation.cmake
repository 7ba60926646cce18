# SPDX-License-Identifier: Apache-2.0
# The four foundation benchmarks (issue 2): idle, spawn, stream, cli. Each
# script records its figures with record.sh. spawn_bench is always built;
# the ctest tests "bench/<name>" exist only with CIRCUIT_BENCH=ON.
if(TARGET circuit_client)
  add_executable(spawn_bench ${CMAKE_CURRENT_LIST_DIR}/spawn_bench.c)
  target_link_libraries(spawn_bench PRIVATE circuit_client)
  set_target_properties(spawn_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

  if(CIRCUIT_BENCH)
    # idle sits 60 s; stream moves 1 GiB each way (files in a temp dir).
    circuit_add_shell_test(bench/idle ${CMAKE_CURRENT_LIST_DIR}/idle.sh LABELS bench TIMEOUT 300)
    # spawn_bench is driven by run-all.sh (it starts circuitd through lib.sh).
    circuit_add_shell_test(bench/spawn ${CMAKE_CURRENT_LIST_DIR}/run-all.sh LABELS bench
                           TIMEOUT 600)
    set_property(TEST bench/spawn APPEND PROPERTY ENVIRONMENT "CIRCUIT_BENCH_ONLY=spawn")
    circuit_add_shell_test(bench/stream ${CMAKE_CURRENT_LIST_DIR}/stream.sh LABELS bench
                           TIMEOUT 900)
    circuit_add_shell_test(bench/cli ${CMAKE_CURRENT_LIST_DIR}/cli.sh LABELS bench TIMEOUT 600)
  endif()
endif()
