# SPDX-License-Identifier: Apache-2.0
# chan benchmark (issue 5): chan_bench against a Redis list, driven by
# chan_bench.sh, which records its figures with record.sh. The program is
# always built; the ctest "bench/chan" exists only with CIRCUIT_BENCH=ON.
if(TARGET circuit_client)
  add_executable(chan_bench ${CMAKE_CURRENT_LIST_DIR}/chan_bench.c)
  target_link_libraries(chan_bench PRIVATE circuit_client circuit_sdk)
  set_target_properties(chan_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  # hiredis is linked here only, for the Redis baseline.
  pkg_check_modules(HIREDIS IMPORTED_TARGET hiredis)
  if(HIREDIS_FOUND)
    target_link_libraries(chan_bench PRIVATE PkgConfig::HIREDIS)
    target_compile_definitions(chan_bench PRIVATE CHAN_BENCH_HIREDIS)
  else()
    message(STATUS "hiredis not found: chan_bench runs without its Redis baseline")
  endif()

  if(CIRCUIT_BENCH)
    circuit_add_shell_test(bench/chan ${CMAKE_CURRENT_LIST_DIR}/chan_bench.sh LABELS bench
                           TIMEOUT 900)
  endif()
endif()
