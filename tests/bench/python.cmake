# SPDX-License-Identifier: Apache-2.0
# Python binding benchmark (issue 21): python_bench (C, libcircuit) against
# the same loops through the circuit package, in one run, by
# python_bench.py, which records its figures with record.sh. The program is
# always built; the ctest "bench/python" exists only with CIRCUIT_BENCH=ON.
if(TARGET circuit_client AND TARGET circuit_python)
  add_executable(python_bench ${CMAKE_CURRENT_LIST_DIR}/python_bench.c)
  target_link_libraries(python_bench PRIVATE circuit_client circuit_sdk)
  set_target_properties(python_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  if(CIRCUIT_BENCH)
    add_test(NAME bench/python COMMAND ${CIRCUIT_PYTHON_EXECUTABLE}
      ${CMAKE_CURRENT_LIST_DIR}/python_bench.py ${CMAKE_BINARY_DIR} --record)
    set_tests_properties(bench/python PROPERTIES LABELS bench TIMEOUT 900
      ENVIRONMENT "CIRCUIT_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  endif()
endif()
