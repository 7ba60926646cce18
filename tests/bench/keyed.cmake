# SPDX-License-Identifier: Apache-2.0
# Keyed connections (issue 4): handshake cost and encrypted stream
# throughput against the same unkeyed, driven by keyed.sh.
if(TARGET circuit_client)
  add_executable(keyed_bench ${CMAKE_CURRENT_LIST_DIR}/keyed_bench.c)
  target_link_libraries(keyed_bench PRIVATE circuit_client)
  set_target_properties(keyed_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  if(CIRCUIT_BENCH)
    circuit_add_shell_test(bench/keyed ${CMAKE_CURRENT_LIST_DIR}/keyed.sh LABELS bench TIMEOUT 900)
  endif()
endif()
